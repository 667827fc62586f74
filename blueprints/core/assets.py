"""webassets bundles: one CSS file and one script file per page, versioned for caching."""
from flask_assets import Bundle

CSS = Bundle("css/app.css", filters="rcssmin", output="gen/app.%(version)s.css")
JS = Bundle("js/app.js", "js/outbox.js", output="gen/app.%(version)s.js")


def register_bundles(assets) -> None:
    assets.register("css_all", CSS)
    assets.register("js_all", JS)
