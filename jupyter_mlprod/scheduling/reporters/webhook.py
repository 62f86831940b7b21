"""Webhook reporter: POST JSON to an http(s) URL (Slack-compatible by default). The URL may come
from the environment (`url_env`), as webhook URLs are secrets."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from .. import messages
from ...masking import mask_headers, mask_webhook_url
from .base import ReporterType, ReportError, env_name_problem
from .templates import check_template, render_json

FORMATS = ("slack", "json")


class WebhookReporter(ReporterType):
    kind = "webhook"
    keys = ("type", "when", "url", "url_env", "format", "template", "body", "headers")

    def normalize(self, raw, field, ctx):
        problems = ctx.problems
        url, url_env = raw.get("url"), raw.get("url_env")
        out = {"type": "webhook"}
        if (url is None) == (url_env is None):
            problems.error(f"{field}.url", "give the webhook as url or as url_env (the "
                           "environment variable holding it), one of the two")
        elif url is not None:
            problem = url_problem(url)
            if problem:
                problems.error(f"{field}.url", problem, code="invalid_url")
            out["url"] = url
        else:
            problem = env_name_problem(url_env)
            if problem:
                problems.error(f"{field}.url_env", f"url_env {problem}")
            else:
                out["url_env"] = url_env
                value = ctx.environ.get(url_env)
                if not value:
                    problems.warn(f"{field}.url_env", f"the environment variable {url_env} is not "
                                  "set here; the scheduler's environment must define it")
                elif url_problem(value):
                    # name the variable only: its value may be anything (a secret, $HOME...)
                    problems.error(f"{field}.url_env", f"the environment variable {url_env} "
                                   "does not hold an http(s) URL with a host",
                                   code="invalid_url")
        fmt = raw.get("format", "slack")
        if fmt not in FORMATS:
            problems.error(f"{field}.format", f"format must be slack or json, not {fmt!r}")
        out["format"] = fmt
        if "template" in raw:
            check_template(raw["template"], f"{field}.template", problems)
            out["template"] = raw["template"]
        if "body" in raw:
            check_template(raw["body"], f"{field}.body", problems, json_body=True)
            out["body"] = raw["body"]
        headers = raw.get("headers", {})
        if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            problems.error(f"{field}.headers", "headers must map header names to text values")
        elif headers:
            out["headers"] = headers
        return out

    def describe(self, spec):
        return f"webhook {spec.get('url_env') and '$' + spec['url_env'] or _host(spec.get('url'))}"

    def public(self, spec):
        out = dict(spec, url=_redact(spec["url"])) if spec.get("url") else dict(spec)
        if spec.get("headers"):
            out["headers"] = mask_headers(spec["headers"])
        return out

    def send(self, spec, report, environ, timeout):
        url = spec.get("url") or environ.get(spec.get("url_env") or "")
        if not url:
            raise ReportError(f"the environment variable {spec.get('url_env')} is not set")
        problem = url_problem(url)
        if problem:
            raise ReportError(problem if spec.get("url") else f"the environment variable "
                              f"{spec.get('url_env')} does not hold an http or https URL with a host",
                              retry=False)
        # a URL from the environment is named by its variable in errors, never shown
        where = _host(url) if spec.get("url") else f"${spec.get('url_env')}"
        if spec.get("body") is not None:
            body = render_json(spec["body"], messages.values(report))
        elif spec.get("format") == "json":
            body = report
        else:
            body = messages.slack_body(report, spec.get("template"))
        data = json.dumps(body, default=str).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "jupyter-mlprod"}
        headers.update(spec.get("headers") or {})
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace").strip()
            # 4xx (but 408/429) will not get better by retrying the same body
            retry = exc.code >= 500 or exc.code in (408, 429)
            raise ReportError(f"{where} answered HTTP {exc.code}"
                              + (f": {detail}" if detail else ""), retry=retry) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ReportError(f"cannot reach {where}: {reason}") from None


def url_problem(url) -> str | None:
    if not isinstance(url, str):
        return "url must be text"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        # never echo the URL: it may be a secret, or an environment variable's value
        got = f"{parts.scheme}://" if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,20}", parts.scheme
                                                   ) else "no scheme"
        return f"a webhook URL must start with http:// or https:// (got {got})"
    if not parts.hostname:
        return "the webhook URL has no host"
    return None


def _host(url) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    except (TypeError, ValueError):
        return "the webhook"


def _redact(url: str) -> str:
    return mask_webhook_url(url)
