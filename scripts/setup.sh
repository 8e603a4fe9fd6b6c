#!/usr/bin/env bash
# Sets up a fresh checkout: Node dependencies, and the project-local Python environment that
# the tests use to compare our figures with the real Python CodeCarbon.
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --no-audit --no-fund

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
