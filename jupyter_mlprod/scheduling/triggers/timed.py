"""Time triggers: cron in a time zone (croniter, DST-aware) and a fixed interval."""
from __future__ import annotations

import datetime as dt
import math
import re
import threading
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .base import TriggerType, seconds_text

UTC = dt.timezone.utc
ALIASES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
           "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
           "@hourly": "0 * * * *"}
MAX_EVERY = 3650 * 86400  # ten years: longer spans overflow the calendar's arithmetic
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|min|m|s)", re.I)


def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


class CronTrigger(TriggerType):
    kind = "cron"
    keys = ("type", "cron", "timezone")
    timed = True

    def __init__(self):
        self._iters: dict = {}
        self._next: dict = {}
        self._lock = threading.Lock()

    def normalize(self, raw, field, ctx):
        problems = ctx.problems
        expr, tz = raw.get("cron"), raw.get("timezone", "UTC")
        if not isinstance(expr, str) or not expr.strip():
            problems.error(f"{field}.cron", "cron must be an expression such as \"0 6 * * 1-5\" "
                           "(minute hour day-of-month month day-of-week)")
            expr = None
        else:
            expr = " ".join(expr.split())
            message = cron_problem(expr)
            if message:
                problems.error(f"{field}.cron", message, code="invalid_cron")
        if not isinstance(tz, str) or zone(tz) is None:
            problems.error(f"{field}.timezone", f"unknown time zone {tz!r} (use an IANA name "
                           "such as UTC, Europe/Paris or America/New_York)",
                           code="invalid_timezone")
        return {"type": "cron", "cron": expr, "timezone": tz}

    def describe(self, spec):
        from cron_descriptor import ExpressionDescriptor, Options

        options = Options()
        options.use_24hour_time_format = True
        expr = ALIASES.get(spec["cron"], spec["cron"])
        try:
            text = ExpressionDescriptor(expr, options).get_description()
        except Exception:  # the descriptor is stricter than croniter on a few forms
            text = f"cron {spec['cron']}"
        return f"{text} ({spec['timezone']})"

    def next_due(self, spec, after, anchor):
        """Memoised: at a busy minute, many scenarios share (expression, zone, after)."""
        key = (spec["cron"], spec["timezone"], after)
        with self._lock:
            hit = self._next.get(key)
        if hit is None:
            hit = self._compute(spec, after)
            with self._lock:
                if len(self._next) > 65536:
                    self._next.clear()
                self._next[key] = hit
        return hit

    def _compute(self, spec, after):
        tz = zone(spec["timezone"])
        key = (spec["cron"], spec["timezone"])
        with self._lock:
            it = self._iters.get(key)
            if it is None:
                from croniter import croniter

                it = self._iters[key] = croniter(spec["cron"], after.astimezone(tz))
                if len(self._iters) > 4096:
                    self._iters.clear()
            it.set_current(after.astimezone(tz), force=True)
            return it.get_next(dt.datetime).astimezone(UTC)


def cron_problem(expr: str) -> str | None:
    from croniter import croniter

    if expr.startswith("@"):
        if expr.lower() not in ALIASES:
            return f"unknown cron alias {expr!r} (use one of {', '.join(ALIASES)})"
        return None
    fields = expr.split()
    if len(fields) != 5:
        return (f"a cron expression has 5 fields (minute hour day-of-month month day-of-week); "
                f"{expr!r} has {len(fields)}")
    for name, text, (low, high), names in zip(_FIELDS, fields, _RANGES, _NAMES):
        message = _field_problem(name, text, low, high, names)
        if message:
            return f"{message} (in {expr!r})"
    try:
        it = croniter(expr)
    except (ValueError, KeyError) as exc:
        detail = str(exc).replace(f"[{expr}] ", "")
        return f"invalid cron expression {expr!r}: {detail}"
    try:  # valid fields can still name no real date (31 February): croniter then gives up
        it.get_next(dt.datetime)
    except ValueError:
        return f"the cron expression {expr!r} never fires (no date matches it)"
    return None


_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))   # day-of-week 0 and 7 are Sunday
_NAMES = ({}, {}, {}, {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)},
    {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))})
_ITEM = re.compile(r"^(?P<range>\*|[^-/]+(?:-[^-/]+)?)(?:/(?P<step>.*))?$")


def _field_problem(name: str, text: str, low: int, high: int, names: dict) -> str | None:
    """`minute 61 is out of range 0-59`: what is wrong with one field, naming it; None when
    this simple reading finds nothing (croniter then judges the rarer forms: L, W, #, ?)."""
    span = f"{low}-{high}" + (f" or {next(iter(names))}-{list(names)[-1]}" if names else "")
    for item in text.split(","):
        if re.search(r"[LW#?]", item.upper().replace("JUL", "").replace("WED", "")):
            continue  # last day, weekday, nth weekday, no value: croniter's forms
        match = _ITEM.match(item)
        if not match:
            return f"{name} {item!r} is not a value, a range or a step"
        step = match.group("step")
        if step is not None and (not step.isdigit() or int(step) < 1):
            return f"{name} step {step!r} must be a whole number of at least 1"
        if match.group("range") == "*":
            continue
        for value in match.group("range").split("-"):
            if value.isdigit():
                if not low <= int(value) <= high:
                    return f"{name} {int(value)} is out of range {low}-{high}"
            elif value.lower() not in names:
                return f"{name} {value!r} is not a number in {span}"
    return None


class IntervalTrigger(TriggerType):
    kind = "interval"
    keys = ("type", "every", "start_at")
    timed = True

    def normalize(self, raw, field, ctx):
        problems = ctx.problems
        every = parse_duration(raw.get("every"))
        if every is None or not 1 <= every <= MAX_EVERY:  # NaN fails both comparisons
            problems.error(f"{field}.every", "every must be a duration from 1 second to 3650 "
                           "days: a number of seconds or text such as \"90s\", \"15m\", "
                           "\"1h30m\", \"2d\"")
            if every is not None and not math.isfinite(every):
                every = None  # JSON has no infinity to echo it back with
        start = raw.get("start_at")
        if start is not None:
            parsed = parse_time(start)
            if parsed is None:
                problems.error(f"{field}.start_at", "start_at must be an ISO 8601 time with a "
                               "time zone, e.g. 2025-01-01T06:00:00Z")
            start = parsed.isoformat().replace("+00:00", "Z") if parsed else start
        out = {"type": "interval", "every": every}
        if start is not None:
            out["start_at"] = start
        return out

    def describe(self, spec):
        text = f"every {seconds_text(spec['every'])}"
        return text + (f" from {spec['start_at']}" if spec.get("start_at") else "")

    def next_due(self, spec, after, anchor):
        every = spec["every"]
        if spec.get("start_at"):
            anchor = parse_time(spec["start_at"])
        if anchor is None or after < anchor:
            return anchor or after + dt.timedelta(seconds=every)
        steps = math.floor((after - anchor).total_seconds() / every) + 1
        due = anchor + dt.timedelta(seconds=steps * every)
        while due <= after:  # float rounding on very long spans
            due += dt.timedelta(seconds=every)
        return due


def parse_duration(value) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return int(value) if float(value).is_integer() else float(value)
        except OverflowError:  # an integer beyond any float: no duration
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return parse_duration(float(text))
    total, pos = 0.0, 0
    for match in _DURATION.finditer(text):
        if text[pos:match.start()].strip():
            return None
        total += float(match.group(1)) * _UNITS[match.group(2).lower()]
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        return None
    return parse_duration(total)


def parse_time(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)
