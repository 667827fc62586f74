"""webassets bundles: one CSS file and one script file per page, versioned for caching."""
from flask_assets import Bundle

CSS = Bundle("css/app.css", filters="rcssmin", output="gen/app.%(version)s.css")
# The offline outbox in five files sharing window.GuanaiOutbox; bar.js, last, starts it.
OUTBOX = ("js/outbox/store.js", "js/outbox/sync.js", "js/outbox/forms.js", "js/outbox/picker.js", "js/outbox/bar.js")
JS = Bundle("js/app.js", *OUTBOX, output="gen/app.%(version)s.js")


def register_bundles(assets) -> None:
    assets.register("css_all", CSS)
    assets.register("js_all", JS)
