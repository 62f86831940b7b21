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
    """The URL with its password (or a lone user name, often a token) and its credential query
    values replaced by ***. With `every_query_value`, every query value is masked (webhooks:
    any of them may be the secret)."""
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
        netloc = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if pairs:
            query = urlencode([(k, MASK if (every_query_value or secret_key(k)) and v else v)
                               for k, v in pairs], safe="*/:@,")
        elif every_query_value:
            query = MASK
    fragment = MASK if parts.fragment and every_query_value else parts.fragment
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


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
