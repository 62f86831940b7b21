"""A bundle never carries a secret. Inline secrets of scenario definitions and of mlprod.toml are
stripped on the way in, each one listed (field + what to set on the node) in the preview and
the bundle's notes:

- a webhook reporter's inline URL (the URL is the secret) becomes `url_env` naming a variable
  the node must define; its header values are left out;
- a SQL trigger's URL with a password (user:password@ or ?password=) becomes `url_env` too;
- in mlprod.toml, a URL with credentials and any value of a secret-named key (password, token,
  secret, api_key...) is replaced by ***; [store] url is set on the node by MLPROD_STORE_URL.
"""
from __future__ import annotations

import copy
import re
import tomllib

from ..masking import MASK, mask_url, secret_key

_URL_WITH_CREDENTIALS = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
# variables the node reads instead of mlprod.toml values (settings' environment names)
_CONFIG_ENV = {("store", "url"): "MLPROD_STORE_URL"}


def env_name(*parts) -> str:
    text = "_".join(str(p) for p in parts)
    return "MLPROD_" + re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()


def strip_scenarios(scenarios: list) -> tuple[list, list[dict]]:
    """Scenario definitions without inline secrets, and what was stripped."""
    out, stripped = [], []
    for scenario in scenarios:
        if not isinstance(scenario, dict):
            out.append(scenario)
            continue
        scenario = copy.deepcopy(scenario)
        name = scenario.get("name", "?")
        for i, reporter in enumerate(scenario.get("reporters") or []):
            if not isinstance(reporter, dict) or reporter.get("type") != "webhook":
                continue
            where = f"scenarios[{name}].reporters[{i}]"
            if reporter.get("url"):
                var = env_name(name, "reporter", i, "url")
                del reporter["url"]
                reporter["url_env"] = var
                stripped.append(_entry(f"{where}.url", f"set ${var} (the webhook URL) from the "
                                       "environment on the node"))
            if reporter.get("headers"):
                names = sorted(reporter.pop("headers"))
                stripped.append(_entry(f"{where}.headers", "header values are secrets and were "
                                       f"left out ({', '.join(names)}); set them on the node"))
        for i, trigger in enumerate(scenario.get("triggers") or []):
            if not isinstance(trigger, dict) or trigger.get("type") != "sql":
                continue
            url = trigger.get("url")
            if isinstance(url, str) and _has_credentials(url):
                var = env_name(name, "trigger", i, "url")
                del trigger["url"]
                trigger["url_env"] = var
                stripped.append(_entry(f"scenarios[{name}].triggers[{i}].url",
                                       f"set ${var} (the database URL) from the environment on "
                                       "the node"))
        out.append(scenario)
    return out, stripped


def strip_config(text: str, file_name: str) -> tuple[str | None, list[dict]]:
    """mlprod.toml's text without secret values (None when there is none), and what was
    stripped. A secret that cannot be found verbatim in the text is refused by the caller
    (listed with `refused`)."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None, []
    stripped: list[dict] = []
    for path, value in _strings(table, ()):
        if _URL_WITH_CREDENTIALS.match(value) and _has_credentials(value):
            replacement = mask_url(value)
        elif secret_key(path[-1]) and value and not path[-1].endswith("_env"):
            replacement = MASK
        else:
            continue
        field = f"{file_name} [{'.'.join(path[:-1]) or '(top)'}] {path[-1]}"
        var = _CONFIG_ENV.get(path[-2:] if len(path) >= 2 else path)
        note = (f"set ${var} from the environment on the node" if var else
                "set it from the environment on the node")
        literal = _literal(text, value)
        if literal is None:
            stripped.append(_entry(field, note, refused=True))
            continue
        text = text.replace(literal, _quoted(replacement))
        stripped.append(_entry(field, note))
    return (text if stripped else None), stripped


def _entry(field: str, note: str, refused: bool = False) -> dict:
    return {"field": field, "note": note, **({"refused": True} if refused else {})}


def _has_credentials(url: str) -> bool:
    return mask_url(url) != url


def _strings(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, path + (str(key),))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, path + (str(i),) if not path else path)
    elif isinstance(value, str):
        yield path, value


def _literal(text: str, value: str) -> str | None:
    """How `value` is written in the TOML text (basic or literal string), if verbatim."""
    for quote in ('"', "'"):
        literal = f"{quote}{value}{quote}"
        if literal in text:
            return literal
    return None


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
