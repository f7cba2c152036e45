#!/usr/bin/env bash
# One command for a newcomer: install everything, then read the bundled example reports.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install-system-deps.sh
python3 -m venv .venv
. .venv/bin/activate
pip install --quiet --upgrade pip
pip install --quiet -e '.[dev]'
nianbao parse examples/reports --format table
# The examples carry deliberately injected errors (see examples/README.md): check lists them.
nianbao check examples/reports || true
