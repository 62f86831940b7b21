#!/usr/bin/env bash
# One command that sets up and runs every test (unit, server, PostgreSQL,
# Dask, SMTP/webhook and the Playwright UI test in Debian's Chromium).
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh tests/ui -x     # extra args go to pytest
#
# pytest runs as `.venv/bin/pytest` (not `python -m pytest`), so the tests
# import the INSTALLED jupyter_mlprod: a file missing from the wheel
# (migrations, openapi.yaml, the built labextension) fails here, not in
# production.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
export DEBIAN_FRONTEND=noninteractive

step() { echo; echo "==> $*"; }

# --- system packages (only what is missing) ---
APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  apt-get install -y -qq "$@"
}
if [ ! -x /usr/bin/chromium ]; then
  step "installing Debian's chromium (for the UI tests)"
  apt_install chromium
fi
if ! command -v node >/dev/null 2>&1; then
  step "installing Node.js (to build the labextension)"
  apt_install nodejs
fi

# --- Python environment ---
if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV"
  python3 -m venv "$VENV"
fi
export PATH="$VENV/bin:$PATH"

# pip skips the frontend build when a built one exists (skip-if-exists):
# drop a build older than its sources so the tests see the current panel.
STAMP="$ROOT/jupyter_mlprod/labextension/static/style.js"
if [ -f "$STAMP" ] && [ -n "$(find "$ROOT/labextension/src" "$ROOT/labextension/style" \
      "$ROOT/labextension/package.json" -newer "$STAMP" -print -quit)" ]; then
  step "frontend sources changed: the labextension will be rebuilt"
  rm -rf "$ROOT/jupyter_mlprod/labextension"
fi

step "installing jupyter_mlprod with its test extras"
t0=$(date +%s)
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "$ROOT[test]"
echo "    installed in $(( $(date +%s) - t0 )) s"
(cd /tmp && "$VENV/bin/python" -c 'import jupyter_mlprod, os; print("    using", os.path.dirname(jupyter_mlprod.__file__))')

# --- PostgreSQL on 127.0.0.1:5432 ---
pg_ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}
if ! pg_ready; then
  step "PostgreSQL is not answering on 127.0.0.1:5432: starting it"
  if [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
fi
if pg_ready; then
  echo "    PostgreSQL is up on 127.0.0.1:5432"
else
  echo "    WARNING: PostgreSQL is still not reachable; its tests will fail or skip" >&2
fi

# --- tests ---
# With no arguments the suite runs as two pytest processes side by side (the machine has two
# cores and most tests wait on kernels, servers or browsers): each group keeps its session
# fixtures to itself. Extra arguments run one pytest with them, as before.
run_group() {  # name, then pytest arguments; output goes to $LOGDIR/<name>.log
  local name="$1"; shift
  "$VENV/bin/pytest" -p no:cacheprovider "$@" >"$LOGDIR/$name.log" 2>&1
}
set +e
if [ "$#" -gt 0 ]; then
  step "running pytest $*"
  "$VENV/bin/pytest" -p no:cacheprovider "$@"
  rc=$?
else
  LOGDIR="$(mktemp -d)"
  # Group A: browser, serving, security, REST and magics suites (servers, Chromium, the fuzz);
  # group B: everything else (kernels, stores, scheduler, CLI).
  GROUP_A=(tests/ui tests/serving tests/security tests/server tests/magics)
  GROUP_B=()
  for dir in tests/*/; do
    dir="${dir%/}"
    case " ${GROUP_A[*]} " in *" $dir "*) continue ;; esac
    GROUP_B+=("$dir")
  done
  step "running pytest in two processes: [${GROUP_A[*]}] and [${GROUP_B[*]}]"
  t0=$(date +%s)
  existing_a=()
  for dir in "${GROUP_A[@]}"; do [ -d "$dir" ] && existing_a+=("$dir"); done
  run_group a "${existing_a[@]}" & pid_a=$!
  run_group b "${GROUP_B[@]}" & pid_b=$!
  wait "$pid_a"; rc_a=$?
  wait "$pid_b"; rc_b=$?
  for name in a b; do
    echo; echo "==> pytest group $name"; cat "$LOGDIR/$name.log"
  done
  echo; echo "    both groups done in $(( $(date +%s) - t0 )) s (group a exit $rc_a, group b exit $rc_b)"
  rc=$(( rc_a != 0 ? rc_a : rc_b ))
fi
set -e
if [ "$rc" -ne 0 ]; then
  echo "pytest failed (exit $rc)" >&2
fi
exit "$rc"
