"""The launch lock: one scheduler at a time turns waiting fires into runs, store-wide. It makes
the run service's one-run-per-project rule and the global concurrency limit hold across
schedulers, and it lets a scheduler recognise a launch interrupted by a crash (a fire left
"launching" while nobody holds the lock belongs to a dead launcher).

PostgreSQL: a transaction-level advisory lock on a dedicated connection (released by the
server if the process dies). SQLite: an exclusive `flock` on a file next to the database
(released by the kernel if the process dies). Both are tried without waiting: a scheduler that
does not get the lock leaves launching to the one that has it."""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_LOCK_CLASS = 727002   # first key of pg_try_advisory_xact_lock; 727001 is the migration lock
_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _thread_lock(key: str) -> threading.Lock:
    with _guard:
        return _thread_locks.setdefault(key, threading.Lock())


@contextlib.contextmanager
def launch_lock(engine: Engine, *, wait: bool = False, timeout: float = 30.0):
    """Yields True when this process holds the lock, False when someone else does."""
    key = engine.url.render_as_string(hide_password=True)
    local = _thread_lock(key)
    if not local.acquire(timeout=timeout if wait else 0):
        yield False
        return
    try:
        if engine.dialect.name == "postgresql":
            with _pg_lock(engine, wait, timeout) as held:
                yield held
        elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            with _file_lock(Path(engine.url.database), wait, timeout) as held:
                yield held
        else:
            yield True
    finally:
        local.release()


@contextlib.contextmanager
def _pg_lock(engine: Engine, wait: bool, timeout: float):
    with engine.connect() as conn:
        if wait:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeout * 1000)}")
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:a, 0)"), {"a": _LOCK_CLASS})
            held = True
        else:
            held = bool(conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:a, 0)"),
                                     {"a": _LOCK_CLASS}).scalar())
        try:
            yield held
        finally:
            conn.rollback()   # ends the transaction: releases the advisory lock


@contextlib.contextmanager
def _file_lock(database: Path, wait: bool, timeout: float):
    path = database.with_name(database.name + ".scheduler-lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        held = _flock(fd, wait, timeout)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _flock(fd: int, wait: bool, timeout: float) -> bool:
    import time

    deadline = time.monotonic() + (timeout if wait else 0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

