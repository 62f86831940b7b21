"""Engine creation and schema migration. SQLite file by default, any SQLAlchemy URL by config."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from ..errors import InvalidInput, Unavailable
from ..masking import mask_url

MIGRATIONS = Path(__file__).parent / "migrations"
# Revisions are named NNNN_<what>.py with revision id == file stem, in one linear chain.
HEAD = max(p.stem for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
_VERSION_TABLE = "mlprod_alembic_version"
_CONNECT_ERRORS: tuple = ()
try:
    import psycopg

    _CONNECT_ERRORS = (psycopg.OperationalError,)
except ImportError:  # PostgreSQL support is optional at import time
    pass
_migrate_lock = threading.Lock()


class RawJSON(str):
    """JSON text that is already valid and serialised (a request body the server parsed, an
    answer it encoded): a JSON column stores it as is instead of re-encoding a parsed copy,
    the prediction log's main per-row cost."""
    __slots__ = ()


def _json_dumps(value) -> str:
    return str.__str__(value) if type(value) is RawJSON else json.dumps(value)


def create_store_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInput(f"store url {mask_url(url)!r} is not a valid SQLAlchemy URL",
                           field="store_url") from None
    kwargs: dict = {"future": True, "json_serializer": _json_dumps}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Several threads (run workers, handlers) and processes (CLI + server) share the file.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise InvalidInput(f"store url {mask_url(url)!r} cannot be used: {mask_url(str(exc))}", field="store_url") from None
    @sa.event.listens_for(engine, "handle_error")
    def _unavailable(context):
        # A store that goes away after start-up is "unavailable" (503 / exit 3), not a crash.
        # SQLAlchemy flags Ctrl-C during a query as a disconnect too: let that one through.
        if not isinstance(context.original_exception, Exception):
            return
        if context.is_disconnect or isinstance(context.original_exception, _CONNECT_ERRORS):
            raise Unavailable(f"cannot reach the store at {mask_url(parsed.render_as_string())}: "
                              f"{context.original_exception}".strip(), field="store_url")

    if parsed.get_backend_name() == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the run writer
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to HEAD. Checking costs one query (so a deleted SQLite file is noticed);
    Alembic is imported only when an upgrade is needed."""
    with _migrate_lock:
        try:
            with engine.connect() as conn:
                current = _current_revision(conn)
                if current != HEAD:
                    _upgrade(conn)
                    conn.commit()
        except OperationalError as exc:
            raise Unavailable(f"cannot reach the store at {mask_url(engine.url.render_as_string())}: "
                              f"{exc.orig}", field="store_url") from None


def _current_revision(conn) -> str | None:
    if not sa.inspect(conn).has_table(_VERSION_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()


def _upgrade(conn) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    if conn.dialect.name == "postgresql":
        # Two processes opening a fresh database at once must not both create the tables.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(727001)"))
        if _current_revision(conn) == HEAD:
            return
    command.upgrade(config, "head")
