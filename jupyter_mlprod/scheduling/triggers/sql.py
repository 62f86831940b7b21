"""SQL query result change: any SQLAlchemy URL (or one read from an environment variable), a
query polled, fired when the fingerprint of its result changes. The query runs read-only in a
transaction that is rolled back; an unreachable URL or failing query is a clear error at save
time and a recorded error at run time."""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

from ...masking import MASK, secret_key
from .base import PollEnv, TriggerError, TriggerType

MAX_ROWS = 1_000_000
CONNECT_TIMEOUT = 10
STATEMENT_TIMEOUT_MS = 60_000
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SqlTrigger(TriggerType):
    kind = "sql"
    keys = ("type", "url", "url_env", "query", "poll")
    polled = True

    def normalize(self, raw, field, ctx):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        from ..scenarios import number

        problems = ctx.problems
        url, url_env, query = raw.get("url"), raw.get("url_env"), raw.get("query")
        out = {"type": "sql"}
        if (url is None) == (url_env is None):
            problems.error(f"{field}.url", "give the database as url (a SQLAlchemy URL) or as "
                           "url_env (the environment variable holding it), one of the two")
        elif url is not None:
            try:
                make_url(url)
                out["url"] = url
            except (ArgumentError, TypeError, ValueError):
                problems.error(f"{field}.url", f"{mask(url)!r} is not a SQLAlchemy URL (e.g. "
                               "postgresql://user@host/db or sqlite:///data/app.db)")
        elif not isinstance(url_env, str) or not _ENV_NAME.match(url_env):
            problems.error(f"{field}.url_env", "url_env must be the name of an environment "
                           "variable")
        else:
            out["url_env"] = url_env
            if not ctx.environ.get(url_env):
                problems.warn(f"{field}.url_env", f"the environment variable {url_env} is not set "
                              "here; the scheduler's environment must define it")
        if not isinstance(query, str) or not query.strip():
            problems.error(f"{field}.query", "query must be a SELECT whose result is watched, e.g. "
                           "SELECT max(updated_at), count(*) FROM orders")
        out["query"] = query.strip() if isinstance(query, str) else query
        out["poll"] = number(raw, "poll", field, problems, 60, 1, 86400, integer=False)
        return out

    def describe(self, spec):
        where = mask(spec["url"]) if spec.get("url") else f"${spec.get('url_env')}"
        return f"when the result of a query on {where} changes (checked every {spec['poll']:g} s)"

    def public(self, spec):
        return dict(spec, url=mask(spec["url"])) if spec.get("url") else dict(spec)

    def check(self, spec, field, ctx):
        if spec.get("url_env") and not ctx.environ.get(spec["url_env"]):
            return None  # warned in normalize; cannot try it from here
        try:
            return self.fingerprint(spec, PollEnv(Path(ctx.root), None, ctx.environ))
        except TriggerError as exc:
            key = exc.field if exc.field != "url" or spec.get("url") else "url_env"
            ctx.problems.error(f"{field}.{key}", exc.message,
                               code="unreachable" if exc.field == "url" else "query_failed")
            return None

    def poll_seconds(self, spec):
        return float(spec["poll"])

    def fingerprint(self, spec, env: PollEnv):
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        url = spec.get("url") or env.environ.get(spec.get("url_env") or "")
        if not url:
            raise TriggerError(f"the environment variable {spec.get('url_env')} is not set", "url")
        # a URL read from the environment is never echoed, only its variable's name
        shown = mask(spec["url"]) if spec.get("url") else f"${spec.get('url_env')}"
        engine = _engine(url, Path(env.root), shown)
        try:
            try:
                conn = engine.connect()
            except (SQLAlchemyError, OSError) as exc:
                reason = _reason(exc) if spec.get("url") else type(exc).__name__
                raise TriggerError(f"cannot connect to {shown}: {reason}", "url") from None
            with conn:
                try:
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                        conn.exec_driver_sql(
                            f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
                    result = conn.exec_driver_sql(spec["query"])
                    if not result.returns_rows:
                        raise TriggerError("the query returns no rows: it must be a SELECT",
                                           "query")
                    digest = hashlib.sha256(json.dumps(list(result.keys())).encode())
                    count = 0
                    first = None
                    for row in result:
                        count += 1
                        if count > MAX_ROWS:
                            raise TriggerError(
                                f"the query returns over {MAX_ROWS:,} rows; watch an aggregate "
                                "instead (max(updated_at), count(*))", "query")
                        values = [_plain(v) for v in row]
                        first = values if first is None else first
                        digest.update(json.dumps(values, default=str).encode())
                except (DBAPIError, SQLAlchemyError) as exc:
                    raise TriggerError(f"the query failed: {_reason(exc)}", "query") from None
                finally:
                    conn.rollback()
        finally:
            engine.dispose()
        first_text = json.dumps(first, default=str)[:200] if first is not None else None
        return digest.hexdigest(), {"rows": count, "first_row": first_text}

    def changes(self, old_state, new_state):
        new_state = new_state or {}
        return {"rows": new_state.get("rows"), "first_row": new_state.get("first_row")}


def _engine(url: str, root: Path, shown: str):
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    from sqlalchemy.pool import NullPool

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise TriggerError(f"{shown} is not a SQLAlchemy URL", "url") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if not database or database == ":memory:":
                raise TriggerError("an in-memory SQLite database cannot be watched", "url")
            path = Path(database) if Path(database).is_absolute() else root / database
            if not path.is_file():
                where = "" if shown.startswith("$") else f" {path}"
                raise TriggerError(f"cannot connect to {shown}: the database file{where} does "
                                   "not exist", "url")
            return sa.create_engine("sqlite://", poolclass=NullPool, creator=lambda: (
                sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=CONNECT_TIMEOUT,
                                check_same_thread=False)))
        args = {"connect_timeout": CONNECT_TIMEOUT} if parsed.get_backend_name() in (
            "postgresql", "mysql", "mariadb") else {}
        return sa.create_engine(parsed, poolclass=NullPool, connect_args=args)
    except TriggerError:
        raise
    except (ImportError, ArgumentError) as exc:
        raise TriggerError(f"cannot use {shown}: {exc} (is its database driver "
                           "installed?)", "url") from None


def mask(url) -> str:
    """The URL with its password (user:password@ and credential query values such as
    ?password=) hidden, for messages and views."""
    if not isinstance(url, str):
        return str(url)
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)
    if parsed.query:
        parsed = parsed.set(query={k: MASK if secret_key(k) else v
                                   for k, v in parsed.query.items()})
    elif not parsed.password:
        return url
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", MASK)

def _reason(exc) -> str:
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split())[:500]


def _plain(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value
