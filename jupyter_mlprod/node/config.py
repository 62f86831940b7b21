"""Node tokens: from the command line, the environment or a token file named in the node
folder's own mlprod.toml (`[node] token_file`). Never from a bundle."""
from __future__ import annotations

import hmac
import os
import tomllib
from pathlib import Path

from ..errors import InvalidInput
from ..jsonbody import DEFAULT_MAX_DEPTH

TOKEN_ENV = "MLPROD_NODE_TOKEN"
TOKEN_FILE_ENV = "MLPROD_NODE_TOKEN_FILE"
MIN_LENGTH = 16
NODE_MAX_BODY = 64 << 20  # a deploy carries the bundle's manifest inline


def load_tokens(root: Path, token: str | None = None, token_file: str | Path | None = None,
                environ: dict | None = None) -> dict[str, str]:
    """name -> token. A token file has one token a line, `name:token` or a bare token."""
    environ = os.environ if environ is None else environ
    tokens: dict[str, str] = {}
    if token:
        tokens["default"] = token
    elif environ.get(TOKEN_ENV):
        tokens["default"] = environ[TOKEN_ENV]
    token_file = token_file or environ.get(TOKEN_FILE_ENV) or _configured_file(root)
    if token_file:
        path = Path(token_file).expanduser()
        if not path.is_absolute():
            path = root / path
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InvalidInput(f"cannot read the node token file {path}: {exc.strerror}",
                               field="token_file") from None
        for i, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, value = line.partition(":")
            name, value = (name.strip(), value.strip()) if sep else (f"token{i}", name)
            tokens[name] = value
    if not tokens:
        raise InvalidInput(f"the node needs a token: pass --token, set ${TOKEN_ENV}, or name a "
                           "token file ([node] token_file in the node's mlprod.toml)",
                           field="token")
    for name, value in tokens.items():
        if len(value) < MIN_LENGTH:
            raise InvalidInput(f"node token {name!r} is too short: use at least {MIN_LENGTH} "
                               "random characters (e.g. python -c 'import secrets; "
                               "print(secrets.token_urlsafe(32))')", field="token")
    return tokens


def _node_table(root: Path) -> dict:
    path = root / "mlprod.toml"
    if not path.exists():
        return {}
    try:
        node = tomllib.loads(path.read_text(encoding="utf-8")).get("node", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"mlprod.toml is not valid TOML: {exc}", field="mlprod.toml") from None
    return node if isinstance(node, dict) else {}


def _configured_file(root: Path) -> str | None:
    value = _node_table(root).get("token_file")
    return value if isinstance(value, str) and value else None


def load_body_limits(root: Path) -> dict[str, int]:
    """Caps on the node's JSON request bodies (blobs are streamed and capped apart):
    `[node] max_body_bytes` (413 beyond it) and `max_json_depth` (400) in mlprod.toml."""
    node = _node_table(Path(root))
    limits = {"max_bytes": NODE_MAX_BODY, "max_depth": DEFAULT_MAX_DEPTH}
    for key, setting in (("max_bytes", "max_body_bytes"), ("max_depth", "max_json_depth")):
        value = node.get(setting, limits[key])
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput(f"[node] {setting} in mlprod.toml must be a positive whole "
                               f"number, got {value!r}", field=f"node.{setting}")
        limits[key] = value
    return limits


def check_token(tokens: dict[str, str], header: str | None) -> str | None:
    """The name of the token an Authorization header carries, or None. Constant-time."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in ("bearer", "token") or not value:
        return None
    found = None
    for name, token in tokens.items():
        if hmac.compare_digest(value.strip().encode(), token.encode()):
            found = name
    return found
