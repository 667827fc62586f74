"""The huey consumer's entry point: `.venv/bin/huey_consumer worker.huey -w 1` (`make run` starts it).

It builds the app from the environment (the same DATABASE_URL, instance folder and HUEY_URL as
the web server), so that tasks run in its app context."""
from app import create_app
from blueprints.core.jobs import huey  # noqa: F401  (the consumer loads worker.huey)

app = create_app()
