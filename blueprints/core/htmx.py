"""The one place that decides between a full page and an htmx fragment."""
from __future__ import annotations

from flask import Response, redirect, render_template, request


def wants_fragment() -> bool:
    """A fragment only for an htmx request that is neither boosted nor a history restore:
    those two replace the whole page and must get the whole page."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(page_template: str, fragment_template: str, /, **context) -> str:
    """Render the fragment for an htmx fragment request, else the full page (which includes it)."""
    return render_template(fragment_template if wants_fragment() else page_template, **context)


def redirect_after_post(location: str) -> Response:
    """303 See Other after a successful POST, so a reload never posts twice."""
    return redirect(location, code=303)


def client_redirect(location: str) -> Response:
    """Send the browser elsewhere: htmx follows HX-Redirect, a plain request a 303."""
    if request.headers.get("HX-Request") == "true":
        response = Response(status=200)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)


def add_vary_header(response: Response) -> Response:
    """The same URL answers a page or a fragment, so caches must key on HX-Request."""
    response.vary.add("HX-Request")
    return response
