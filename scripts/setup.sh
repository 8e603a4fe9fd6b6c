#!/usr/bin/env bash
# Sets up a fresh checkout: Node dependencies (Playwright drives the system's Chromium, so no
# browser is downloaded), the project-local Python environment (.venv) with JupyterLab, the real
# Python CodeCarbon (the differential tests) and the tslab kernel registered in it, then builds
# the library and the JupyterLab extension.
set -euo pipefail
cd "$(dirname "$0")/.."

PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
node scripts/register-kernel.js
npm run build:lab
