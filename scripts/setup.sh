#!/usr/bin/env bash
# Sets up a fresh checkout: Node dependencies, and the project-local Python environment (.venv)
# with the real Python CodeCarbon (the differential tests) and Jupyter (the notebook tests),
# where the tslab kernel is registered.
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --no-audit --no-fund

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
node scripts/register-kernel.js
