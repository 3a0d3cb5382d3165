#!/usr/bin/env bash
# Installs everything the tests need (system packages as root, Python deps in .venv) and runs them:
# lint of the import rules, mypy (strict), then pytest on SQLite and on a real PostgreSQL, with a real
# Mosquitto and headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "installing system packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash scripts/bootstrap.sh "[test]"
# OpenDSM (the cross-check of the degree-day baseline) needs pandas < 3, so it gets its own environment.
if [ ! -x .venv-opendsm/bin/python ]; then
  python3 -m venv .venv-opendsm
  .venv-opendsm/bin/python -m pip install --quiet --disable-pip-version-check "opendsm==1.2.7" "multimethod<2"
fi
export CONTEST_OPENDSM_PYTHON="$PWD/.venv-opendsm/bin/python"
.venv/bin/lint-imports --config pyproject.toml
.venv/bin/mypy cli contest scoring ingest web
exec .venv/bin/pytest "$@"
