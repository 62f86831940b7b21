"""Who is acting: each door says it once (`acting_as`), every audit event reads it here.

REST: the Jupyter identity; CLI: the OS user; the production node: its token's name; the
scheduler: `scheduler:<scenario>`. A context variable, so concurrent handlers in one process
(each in its own worker thread) never see each other's actor."""
from __future__ import annotations

import contextvars
import getpass
import os
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")
_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("mlprod_actor", default=None)


def os_user() -> str:
    for name in ("MLPROD_USER", "JUPYTERHUB_USER"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry (containers)
        return "unknown"


def current_actor() -> str:
    """The actor a door set, else the OS user (a script calling `Project` directly)."""
    return _actor.get() or os_user()


@contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    token = _actor.set(actor or None)
    try:
        yield
    finally:
        _actor.reset(token)


def call_as(actor: str | None, fn: Callable[..., T], /, *args, **kwargs) -> T:
    """`fn(*args)` with `actor` set: for work handed to a thread pool (threads do not inherit
    the caller's context variables)."""
    with acting_as(actor):
        return fn(*args, **kwargs)
