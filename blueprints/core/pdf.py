"""The one way the app makes a PDF: a template of templates/print/ through WeasyPrint.

- Resources come only from disk: the app's static files and templates/print/print.css. Every
  other URL (http, https, file: outside those, data:) is refused and stops the rendering with
  `RefusedResource`, so a document can never make the server fetch something.
- Fonts are the system's Noto CJK faces (fonts-noto-cjk), named in print.css on `html` and in
  every `@page` margin box. Fonts are subset (libharfbuzz-subset0), never embedded whole.
- The templates are rendered through the app's Jinja environment, without Flask's context
  processors: those read `current_user` (the menu), which does not exist in a background job or
  a CLI command. Print templates get everything they show from their caller.
- WeasyPrint is imported on first use: it costs ≈ 0.7 s, which the web pages and the other
  commands need not pay.

Many documents in one PDF (`render_pdf_many`): each document is laid out on its own, so its page
numbers ("第 x / y 页") and running header are its own. Layout is pure Python (≈ 0.3–0.4 s per
two-page archive, bound to one core by the GIL), so a batch is cut into parts of PART_SIZE
documents laid out by worker processes, one per core; each part is written as a PDF and the parts
are joined with pypdf. A part in memory costs ≈ 2.5 MB per document, so memory stays bounded
whatever the batch size.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import mimetypes
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from queue import Empty
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from flask import current_app

PRINT_DIR = "print"
STYLESHEET = "print.css"
PART_SIZE = 20  # documents laid out and written together; more is faster to write, costs memory
MAX_PROCESSES = 4


class RefusedResource(Exception):
    """A print template asked for something outside the app's static files and print.css."""


def _print_dir() -> Path:
    return Path(current_app.root_path, current_app.template_folder or "templates", PRINT_DIR).resolve()


def _static_dir() -> Path:
    return Path(current_app.static_folder).resolve()


def static_uri(filename: str) -> str:
    """The URL a print template uses for a static file (an image, a stylesheet)."""
    return (_static_dir() / filename).as_uri()


@functools.cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        """Reads the app's static files and print.css from disk; refuses everything else."""

        def __init__(self, static_dir: Path, stylesheet: Path):
            # fail_on_errors: a refused URL stops the rendering instead of being skipped silently.
            super().__init__(fail_on_errors=True)
            self.static_dir = static_dir
            self.stylesheet = stylesheet

        def local_path(self, url: str) -> Path:
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise RefusedResource(f"打印模板只能使用本系统的静态文件，已拒绝：{url[:200]}")
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if path != self.stylesheet and not path.is_relative_to(self.static_dir):
                raise RefusedResource(f"打印模板只能使用本系统的静态文件，已拒绝：{url[:200]}")
            if not path.is_file():
                raise RefusedResource(f"打印模板要用的文件不存在：{path.name}")
            return path

        def fetch(self, url, headers=None):
            path = self.local_path(url)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})

    return LocalFetcher


@dataclass(frozen=True)
class Place:
    """Where a rendering finds its files. Plain strings: it travels to worker processes,
    which have no Flask app."""

    print_dir: str
    static_dir: str

    @classmethod
    def of_app(cls) -> "Place":
        return cls(str(_print_dir()), str(_static_dir()))

    @property
    def base_url(self) -> str:
        return Path(self.print_dir).as_uri() + "/"

    def fetcher(self):
        return _fetcher_class()(Path(self.static_dir), Path(self.print_dir) / STYLESHEET)


def url_fetcher():
    """The fetcher every rendering uses (a WeasyPrint URLFetcher)."""
    return Place.of_app().fetcher()


def render_html(template: str, **context) -> str:
    if not template.startswith(PRINT_DIR + "/"):
        raise ValueError(f"only templates/{PRINT_DIR}/* are printed, not {template}")
    return current_app.jinja_env.get_template(template).render(static_uri=static_uri, **context)


def layout_html(html_text: str, font_config=None, place: Place | None = None):
    """Lay out an HTML document (pages in memory, not yet a PDF), its resources fetched by
    `Place.fetcher()` only. Raises RefusedResource for anything else."""
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    place = place or Place.of_app()
    html = weasyprint.HTML(string=html_text, base_url=place.base_url, url_fetcher=place.fetcher())
    try:
        return html.render(font_config=font_config)
    except FatalURLFetchingError as error:  # a BaseException: turn it into an ordinary error
        cause = error.__cause__
        raise RefusedResource(str(cause) if cause else str(error)) from cause


def render_pdf(template: str, **context) -> bytes:
    """Render one print template to PDF bytes."""
    html_text = render_html(template, **context)
    with _collector_paused():
        return layout_html(html_text).write_pdf()


@contextlib.contextmanager
def _collector_paused():
    """Layout makes a great many objects, most of which live until the part is written; the
    automatic cyclic garbage collector would walk them again and again (≈ 40 % more time for a
    part). It is paused instead, and `gc.collect(0)` after each document frees that document's
    garbage: while paused, everything new is still in the youngest generation."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _write_part(html_texts: Sequence[str], place: Place, laid_out: Callable[[], None]) -> bytes:
    """Lay out documents one by one and write their pages as one PDF (fonts embedded once)."""
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()  # shared: fontconfig is set up once, not per document
    documents = []
    with _collector_paused():
        for html_text in html_texts:
            documents.append(layout_html(html_text, font_config, place))
            gc.collect(0)
            laid_out()
        return documents[0].copy([page for document in documents for page in document.pages]).write_pdf()


_worker_queue = None


def _worker_init(queue) -> None:
    global _worker_queue
    _worker_queue = queue


def _worker_part(html_texts: Sequence[str], place: Place) -> bytes:
    """In a worker process: one part, reporting each document laid out through the queue."""
    try:
        return _write_part(html_texts, place, lambda: _worker_queue.put(1))
    finally:
        gc.collect()  # the part's documents, before the next part


def _join(parts: Sequence[bytes]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(BytesIO(part)))  # keeps each part's outline (a bookmark per child)
    metadata = PdfReader(BytesIO(parts[0])).metadata
    if metadata:
        writer.add_metadata(dict(metadata))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _can_join() -> bool:
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return False
    return True


def default_processes() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_PROCESSES))


def render_pdf_many(template: str, contexts: Iterable[dict], progress: Callable[[int], None] | None = None,
                    processes: int | None = None, part_size: int = PART_SIZE) -> bytes:
    """Several documents of one template in ONE PDF, each with its own page numbering.
    `progress(n)` is called each time one more document is laid out."""
    html_texts = [render_html(template, **context) for context in contexts]
    if not html_texts:
        raise ValueError("nothing to print")
    place = Place.of_app()
    if not _can_join():  # pypdf missing: everything in one part, in this process (slower, more memory)
        current_app.logger.warning("pypdf is not installed: printing %d documents in one part", len(html_texts))
        part_size, processes = len(html_texts), 1
    count = -(-len(html_texts) // part_size)  # parts of at most part_size documents
    processes = min(processes or default_processes(), count)
    if processes > 1:  # as many parts for each process, of equal sizes, so that they end together
        count = min(-(-count // processes) * processes, len(html_texts))
    size, bigger = divmod(len(html_texts), count)
    bounds = [i * size + min(i, bigger) for i in range(count + 1)]
    parts = [html_texts[bounds[i]:bounds[i + 1]] for i in range(count)]
    done = 0

    def laid_out() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done)

    if processes <= 1:
        pdfs = [_write_part(part, place, laid_out) for part in parts]
    else:
        pdfs = _render_parts_in_processes(parts, place, processes, laid_out)
    return pdfs[0] if len(pdfs) == 1 else _join(pdfs)


def _render_parts_in_processes(parts, place: Place, processes: int, laid_out: Callable[[], None]) -> list[bytes]:
    """Lay out the parts in `processes` fresh worker processes (spawned: nothing of this process,
    its threads or its database connections is copied), reporting progress as they go."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    expected = sum(len(part) for part in parts)
    reported = 0

    def drain(timeout: float | None = None) -> None:
        nonlocal reported
        while reported < expected:
            try:
                queue.get(timeout=timeout) if timeout else queue.get_nowait()
            except Empty:
                return
            reported += 1
            laid_out()

    try:
        with ProcessPoolExecutor(processes, mp_context=context, initializer=_worker_init,
                                 initargs=(queue,)) as pool:
            futures = [pool.submit(_worker_part, part, place) for part in parts]
            pending = set(futures)
            while pending:
                _, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                drain()
            pdfs = [future.result() for future in futures]
        drain(timeout=1.0)  # the last reports may still be on their way
        return pdfs
    finally:
        queue.close()
        queue.join_thread()
