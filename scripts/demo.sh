#!/usr/bin/env bash
# Sets up the project and runs the demo contest on SQLite; the leaderboard is served on http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh ""
exec .venv/bin/contest demo "$@"
