"""API keys: per endpoint, shown once, stored as sha256 (they are 192-bit random secrets, so a
fast hash is safe and checking costs about a microsecond per request).

A server bound beyond loopback requires a valid key on every endpoint request (401 otherwise)
and refuses to start for an endpoint that has no key. On loopback, an endpoint that has keys
requires them too. Keys travel as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
"""
from __future__ import annotations

import hashlib
import ipaddress
import secrets

KEY_PREFIX = "mlp"


def new_key() -> tuple[str, str, str]:
    """(key id, the key, its hash). The id is public and part of the key."""
    key_id = "k" + secrets.token_hex(5)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(24)}"
    return key_id, key, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_from_headers(headers) -> str | None:
    value = headers.get("Authorization")
    if value:
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    value = headers.get("X-API-Key")
    return value.strip() if value else None


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    host = (host or "").strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "", "0.0.0.0"-like names and host names: beyond loopback
