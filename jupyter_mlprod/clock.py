"""Time comes from here so tests can inject a fake clock (the only fake we allow)."""
from __future__ import annotations

import datetime as _dt
import time


class Clock:
    def now(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = Clock()


def isoformat(value: _dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; we only ever store UTC
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.isoformat().replace("+00:00", "Z")


def as_utc(value: _dt.datetime | None) -> _dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value
