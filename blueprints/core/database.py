"""Engine settings that depend on the database."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_sqlite(engine: Engine) -> None:
    """SQLite, the embedded default: enforce foreign keys as PostgreSQL does, let readers work
    beside a writer (WAL), and wait for a lock rather than fail at once."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(conn, _name):
        # pysqlite opens a transaction only before INSERT/UPDATE/DELETE. A SAVEPOINT issued first
        # would itself become the transaction, and its RELEASE would commit the request's work
        # at once (blueprints/core/offline.py uses savepoints): open the transaction first.
        if not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN")
