#!/usr/bin/env bash
# One command on a fresh machine: install jupyter_mlprod into ./.venv and open
# JupyterLab on example_notebooks/ with the MLProd panel.
#
#   bash scripts/start.sh            # port 8888, random token
#   PORT=9000 MLPROD_TOKEN=secret bash scripts/start.sh
#
# The project store defaults to SQLite in example_notebooks/.mlprod/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT="${PORT:-8888}"
VENV="$ROOT/.venv"

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  python3 -m venv "$VENV"
fi
export PATH="$VENV/bin:$PATH"

# A stale built frontend would be shipped as is (skip-if-exists): rebuild it
# when the TypeScript or styles are newer than the build.
STAMP="$ROOT/jupyter_mlprod/labextension/static/style.js"
if [ -f "$STAMP" ] && [ -n "$(find "$ROOT/labextension/src" "$ROOT/labextension/style" \
      "$ROOT/labextension/package.json" -newer "$STAMP" -print -quit)" ]; then
  echo "==> frontend sources changed: rebuilding the labextension"
  rm -rf "$ROOT/jupyter_mlprod/labextension"
fi

# The example's own libraries (numpy, pandas, scikit-learn, joblib) come with the `examples`
# extra: without them the first run stops at `import numpy`.
echo "==> installing jupyter_mlprod with the example's libraries (pip install \".[examples]\")"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "$ROOT[examples]"

TOKEN="${MLPROD_TOKEN:-$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')}"

# No news / update pop-ups.
SETTINGS_DIR="${JUPYTERLAB_SETTINGS_DIR:-$HOME/.jupyter/lab/user-settings}"
NOTIF="$SETTINGS_DIR/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
if [ ! -f "$NOTIF" ]; then
  mkdir -p "$(dirname "$NOTIF")"
  echo '{"fetchNews": "false", "checkForUpdates": false}' > "$NOTIF"
fi

URL="http://127.0.0.1:${PORT}/lab?token=${TOKEN}"
cat <<MSG

==================================================================
 jupyter_mlprod is starting. Open this URL in your browser:

   ${URL}

 Project: ${ROOT}/example_notebooks  (store: example_notebooks/.mlprod/)
 The MLProd panel is in the left sidebar. Stop with Ctrl+C.
==================================================================

MSG

exec "$VENV/bin/jupyter" lab \
  --allow-root \
  --no-browser \
  --ServerApp.root_dir="$ROOT/example_notebooks" \
  --IdentityProvider.token="$TOKEN" \
  --port "$PORT" \
  --ServerApp.port_retries=0 \
  --ip 127.0.0.1 \
  --LabApp.news_url=None \
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
