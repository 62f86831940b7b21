"""Scenario options shared by `mlprod scenario add` and `%mlprod schedule`: flags that compose a
scenario spec (the JSON `ScenarioService.create` takes). Only the composing happens here; every
value is checked by the service, which names the spec field at fault (`triggers[0].cron`).

    triggers   --cron EXPR [--tz ZONE]   --every 15m [--start-at TIME]   --on-change PATH
               --sql-url URL | --sql-url-env VAR  --query SQL   [--poll SECONDS]
               --after SCENARIO [--on success|failure|any]   --manual
    run        --steps a,b | --from STEP   -p NAME=VALUE   --force
    reporters  --webhook URL | --webhook-env VAR [--webhook-format slack|json]
               --email TO [--email-from ADDR] --smtp-host HOST [--smtp-port N]
               [--smtp-tls starttls|ssl|none] [--smtp-user USER --smtp-password-env VAR]
               [--when always|failure|success|change|warning|check_failed]
    policies   --misfire catch_up_once|skip   --overlap skip|queue   --retries N
               --retry-delay SECONDS
    other      --description TEXT   --disabled
"""
from __future__ import annotations

import argparse
import re

from ..errors import InvalidInput
from . import args as shared

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")

# dest -> the flag as typed, for "--tz needs --cron"-style messages and --file conflicts
FLAGS = {
    "description": "--description", "disabled": "--disabled", "cron": "--cron", "tz": "--tz",
    "every": "--every", "start_at": "--start-at", "on_change": "--on-change", "poll": "--poll",
    "sql_url": "--sql-url", "sql_url_env": "--sql-url-env", "query": "--query",
    "after": "--after", "on": "--on", "manual": "--manual", "steps": "--steps",
    "from_step": "--from", "params": "-p", "force": "--force", "webhook": "--webhook",
    "webhook_env": "--webhook-env", "webhook_format": "--webhook-format", "email": "--email",
    "email_from": "--email-from", "smtp_host": "--smtp-host", "smtp_port": "--smtp-port",
    "smtp_tls": "--smtp-tls", "smtp_user": "--smtp-user",
    "smtp_password_env": "--smtp-password-env", "when": "--when", "misfire": "--misfire",
    "overlap": "--overlap", "retries": "--retries", "retry_delay": "--retry-delay",
}


def add_scenario_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--description", metavar="TEXT", help="what the scenario is for")
    parser.add_argument("--disabled", action="store_true",
                        help="save it disabled (enable it later)")

    t = parser.add_argument_group("triggers (one or more; repeat a flag for several)")
    t.add_argument("--cron", action="append", metavar="EXPR",
                   help='a cron expression, e.g. "0 6 * * 1-5" (minute hour day month weekday)')
    t.add_argument("--tz", metavar="ZONE",
                   help="IANA time zone of the --cron expressions (default UTC), e.g. Europe/Paris")
    t.add_argument("--every", action="append", metavar="DURATION",
                   help='a fixed interval: seconds or text such as "90s", "15m", "1h30m"')
    t.add_argument("--start-at", metavar="TIME",
                   help="ISO time the --every intervals count from, e.g. 2025-01-01T06:00:00Z")
    t.add_argument("--on-change", action="append", metavar="PATH",
                   help="fire when the content of these project files / globs changes")
    t.add_argument("--sql-url", metavar="URL",
                   help="fire when the result of --query on this SQLAlchemy URL changes")
    t.add_argument("--sql-url-env", metavar="VAR",
                   help="like --sql-url, the URL read from this environment variable")
    t.add_argument("--query", metavar="SQL", help="the SELECT whose result is watched")
    t.add_argument("--poll", metavar="SECONDS",
                   help="how often --on-change and --sql-url are checked")
    t.add_argument("--after", action="append", metavar="SCENARIO",
                   help="fire when a run of this other scenario finishes")
    t.add_argument("--on", metavar="OUTCOME",
                   help="for --after: success (default), failure or any")
    t.add_argument("--manual", action="store_true", help='only "run now"')

    r = parser.add_argument_group("what to run (default: the whole pipeline)")
    shared.add_selection_options(r)

    p = parser.add_argument_group("reporters")
    p.add_argument("--webhook", action="append", metavar="URL",
                   help="POST a report to this http(s) URL (Slack-compatible)")
    p.add_argument("--webhook-env", action="append", metavar="VAR",
                   help="like --webhook, the URL read from this environment variable when "
                        "sending (webhook URLs are secrets)")
    p.add_argument("--webhook-format", metavar="FORMAT", help="slack (default) or json")
    p.add_argument("--email", action="append", metavar="TO",
                   help="e-mail a report to this address (repeatable) through --smtp-host")
    p.add_argument("--email-from", metavar="ADDRESS", help="the sender address")
    p.add_argument("--smtp-host", metavar="HOST", help="the SMTP server")
    p.add_argument("--smtp-port", metavar="PORT",
                   help="default 587 (starttls), 465 (ssl), 25 (none)")
    p.add_argument("--smtp-tls", metavar="MODE", help="starttls (default), ssl or none")
    p.add_argument("--smtp-user", metavar="USER", help="SMTP login")
    p.add_argument("--smtp-password-env", metavar="VAR",
                   help="environment variable holding the SMTP password (never stored)")
    p.add_argument("--when", metavar="WHEN",
                   help="when the reporters send: always (default), failure, success, change, "
                   "warning (a check warned or failed) or check_failed")

    o = parser.add_argument_group("policies")
    o.add_argument("--misfire", metavar="POLICY",
                   help="after downtime: catch_up_once (default) or skip")
    o.add_argument("--overlap", metavar="POLICY",
                   help="when the previous run still goes: skip (default) or queue")
    o.add_argument("--retries", metavar="N", help="retries of a failed run (0-10)")
    o.add_argument("--retry-delay", metavar="SECONDS", help="wait before a retry")


def flags_given(ns: argparse.Namespace) -> list[str]:
    """The scenario flags set on the command line (for refusing them next to --file)."""
    return [flag for dest, flag in FLAGS.items()
            if getattr(ns, dest, None) not in (None, False, [])]


def scenario_spec(ns: argparse.Namespace, name: str | None) -> dict:
    """The spec the flags describe; `run.parameters` holds -p values as text (create the
    scenario with `text_parameters=True`)."""
    triggers: list[dict] = []
    for expr in ns.cron or []:
        triggers.append(_drop_none({"type": "cron", "cron": expr, "timezone": ns.tz}))
    for every in ns.every or []:
        triggers.append(_drop_none({"type": "interval", "every": _number(every),
                                    "start_at": ns.start_at}))
    if ns.on_change:
        triggers.append(_drop_none({"type": "files", "paths": ns.on_change,
                                    "poll": _number(ns.poll)}))
    if ns.sql_url is not None or ns.sql_url_env is not None or ns.query is not None:
        triggers.append(_drop_none({"type": "sql", "url": ns.sql_url, "url_env": ns.sql_url_env,
                                    "query": ns.query, "poll": _number(ns.poll)}))
    for scenario in ns.after or []:
        triggers.append(_drop_none({"type": "run_finished", "scenario": scenario, "on": ns.on}))
    if ns.manual:
        triggers.append({"type": "manual"})
    _needs(ns, "tz", "cron")
    _needs(ns, "start_at", "every")
    _needs(ns, "on", "after")
    if ns.poll is not None and not (ns.on_change or ns.sql_url or ns.sql_url_env or ns.query):
        raise InvalidInput("--poll applies to --on-change and --sql-url triggers; give one",
                           field="--poll")

    run: dict = {}
    if ns.steps is not None:
        run["steps"] = ns.steps
    if ns.from_step is not None:
        run["from"] = ns.from_step
    params = shared.parse_params(ns.params)
    if params:
        run["parameters"] = params
    if ns.force:
        run["force"] = True

    reporters: list[dict] = []
    for url in ns.webhook or []:
        reporters.append(_drop_none({"type": "webhook", "url": url, "format": ns.webhook_format}))
    for var in ns.webhook_env or []:
        reporters.append(_drop_none({"type": "webhook", "url_env": var,
                                     "format": ns.webhook_format}))
    _needs(ns, "webhook_format", "webhook", "webhook_env")
    if ns.email:
        reporters.append(_drop_none({
            "type": "email", "to": ns.email, "from": ns.email_from, "host": ns.smtp_host,
            "port": _number(ns.smtp_port), "tls": ns.smtp_tls, "user": ns.smtp_user,
            "password_env": ns.smtp_password_env}))
    for dest in ("email_from", "smtp_host", "smtp_port", "smtp_tls", "smtp_user",
                 "smtp_password_env"):
        _needs(ns, dest, "email")
    if ns.when is not None:
        if not reporters:
            raise InvalidInput("--when applies to reporters; add --webhook, --webhook-env or "
                               "--email", field="--when")
        for reporter in reporters:
            reporter["when"] = ns.when

    policies = _drop_none({"misfire": ns.misfire, "overlap": ns.overlap,
                           "retries": _number(ns.retries), "retry_delay": _number(ns.retry_delay)})
    spec = {"name": name, "triggers": triggers, "run": run}
    if ns.description is not None:
        spec["description"] = ns.description
    if ns.disabled:
        spec["enabled"] = False
    if reporters:
        spec["reporters"] = reporters
    if policies:
        spec["policies"] = policies
    return spec


def _needs(ns, dest: str, *needed: str) -> None:
    if getattr(ns, dest, None) is not None and not any(getattr(ns, n, None) for n in needed):
        wanted = " or ".join(FLAGS[n] for n in needed)
        raise InvalidInput(f"{FLAGS[dest]} applies to {wanted}; give it too", field=FLAGS[dest])


def _number(text):
    """A number typed on a command line, as a JSON number; anything else is passed on as text
    for the service to refuse with the field it concerns."""
    if text is None or not _NUMBER.fullmatch(text.strip()):
        return text
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _drop_none(item: dict) -> dict:
    return {k: v for k, v in item.items() if v is not None}
