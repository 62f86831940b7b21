"""Masking of secrets in anything shown or shipped: the credential parts of URLs (user:password@,
query values such as ?token=), and header values. One place, so every view (REST, CLI, magics,
bundle manifests) hides the same things the same way."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# query parameter names that carry a credential (compared lower-case, - and _ alike)
_SECRET_KEY = re.compile(r"(token|passw|pwd|secret|key|sig|auth|credential|session|cookie|"
                         r"jwt|bearer|code|private)", re.IGNORECASE)


def secret_key(name: str) -> bool:
    """Whether a query parameter (or field) name suggests a credential."""
    return bool(_SECRET_KEY.search(str(name)))


def mask_url(url, *, every_query_value: bool = False) -> str:
    """The URL with its password and its credential query values replaced by ***. With
    `every_query_value` (webhooks: any part may be the secret), every query value and a lone
    user name are masked too."""
    if not isinstance(url, str):
        return str(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return _mask_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        if colon:
            netloc = f"{user}:{MASK}@{host}"
        elif every_query_value:  # a webhook's lone user name is usually a token
            netloc = f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        hidden = [(k, MASK if (every_query_value or secret_key(k)) and v else v) for k, v in pairs]
        if hidden != pairs:
            query = urlencode(hidden, safe="*/:@,")
        elif every_query_value and not pairs:
            query = MASK
    fragment = MASK if parts.fragment and every_query_value else parts.fragment
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def mask_webhook_url(url) -> str:
    """Slack-style webhook URLs carry their secret in the path: scheme and host only. Without a
    path, the user:password@ and every query value are masked (any may be the secret)."""
    if not isinstance(url, str):
        return str(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return _mask_text(url)
    if not parts.path.strip("/"):
        return mask_url(url, every_query_value=True)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/{MASK}"


def mask_scenario(spec):
    """A scenario definition as shown (e.g. inside a bundle made before secrets were
    stripped): webhook URLs and headers, SQL URL credentials masked."""
    if not isinstance(spec, dict):
        return spec
    out = dict(spec)
    for key, url_mask in (("reporters", mask_webhook_url), ("triggers", mask_url)):
        items = []
        for item in spec.get(key) or []:
            if isinstance(item, dict):
                item = dict(item)
                if isinstance(item.get("url"), str) and item.get("type") in ("webhook", "sql"):
                    item["url"] = url_mask(item["url"])
                if item.get("headers"):
                    item["headers"] = mask_headers(item["headers"])
            items.append(item)
        if key in spec:
            out[key] = items
    return out


def mask_headers(headers):
    """Every header value masked: any of them may be a credential."""
    if not isinstance(headers, dict):
        return headers
    return {k: MASK for k in headers}


def _mask_text(text: str) -> str:
    text = re.sub(r"//([^:/@\s]+):[^@/\s]*@", rf"//\1:{MASK}@", text)
    return re.sub(r"([?&][^=&\s]*(?:token|pass|secret|key|sig|auth)[^=&\s]*=)[^&\s]*",
                  rf"\1{MASK}", text, flags=re.IGNORECASE)


def restore_headers(shown, stored):
    """Header values sent back as *** keep the stored value of that header."""
    if not isinstance(shown, dict) or not isinstance(stored, dict):
        return shown
    return {k: stored[k] if v == MASK and k in stored else v for k, v in shown.items()}
