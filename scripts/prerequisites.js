#!/usr/bin/env node
// The one list of what the project needs besides Node: the Debian packages its tests drive as
// real services (started by the tests on loopback ports, never the packaged daemons) and what
// `bash scripts/setup.sh` builds in the checkout. setup.sh installs the packages this file says
// are missing; `npm test` runs it first so that everything missing is named in one message.
//   node scripts/prerequisites.js                     check; exit 1 with one message if anything is missing
//   node scripts/prerequisites.js --missing-packages  print the missing Debian packages (for setup.sh)
//   node scripts/prerequisites.js --all-packages      print every Debian package of the list
// CODECARBON_PREREQ_ROOT=<dir> looks for the system files under <dir> instead of / (and not on
// PATH): the tests use it to see the messages of a machine without the packages.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const ROOT = path.resolve(__dirname, "..");
const SYSTEM_ROOT = process.env.CODECARBON_PREREQ_ROOT || "/";
const usePath = !process.env.CODECARBON_PREREQ_ROOT;

function system(file) {
  return path.join(SYSTEM_ROOT, file);
}

/** A program found at one of Debian's paths (or on PATH, unless a root is forced). */
function program(name, debianPaths) {
  const candidates = debianPaths.map(system);
  if (usePath)
    for (const dir of (process.env.PATH || "").split(path.delimiter).filter(Boolean))
      candidates.push(path.join(dir, name));
  return candidates.some((file) => fs.existsSync(file));
}

/** Newest PostgreSQL server of Debian's layout: /usr/lib/postgresql/<version>/bin/{postgres,initdb,pg_ctl}. */
function postgres() {
  const base = system("/usr/lib/postgresql");
  if (!fs.existsSync(base)) return false;
  return fs
    .readdirSync(base)
    .some((version) =>
      ["postgres", "initdb", "pg_ctl"].every((bin) => fs.existsSync(path.join(base, version, "bin", bin))),
    );
}

/** `python3 -m venv` needs ensurepip, which Debian ships apart in python3-venv. */
function pythonVenv() {
  if (usePath && fs.existsSync(path.join(ROOT, ".venv", "bin", "python"))) return true;
  if (!usePath) {
    const lib = system("/usr/lib");
    return (
      fs.existsSync(lib) &&
      fs
        .readdirSync(lib)
        .some((d) => /^python3\.\d+$/.test(d) && fs.existsSync(path.join(lib, d, "ensurepip", "__init__.py")))
    );
  }
  return spawnSync("python3", ["-c", "import ensurepip, venv"], { stdio: "ignore" }).status === 0;
}

/** Debian packages: what each is for, and how to tell it is installed. */
const PACKAGES = [
  { name: "python3-venv", what: "Python's venv with pip (setup.sh creates .venv with it)", installed: pythonVenv },
  {
    name: "tinyproxy",
    what: "a real HTTP proxy for the proxy tests",
    installed: () => fs.existsSync(system("/usr/bin/tinyproxy")),
  },
  {
    name: "squid",
    what: "a second real proxy (Squid) for the proxy tests",
    installed: () => program("squid", ["/usr/sbin/squid"]),
  },
  {
    name: "prometheus",
    what: "Prometheus, which the fleet tests let scrape a tracker",
    installed: () => program("prometheus", ["/usr/bin/prometheus"]),
  },
  {
    name: "prometheus-pushgateway",
    what: "the Pushgateway the fleet tests push to",
    installed: () => program("prometheus-pushgateway", ["/usr/bin/prometheus-pushgateway"]),
  },
  { name: "postgresql", what: "PostgreSQL for the real Code Carbon API server the API tests run", installed: postgres },
  {
    name: "openssl",
    what: "the openssl command, which makes the TLS proxy tests' certificates and password hashes",
    installed: () => program("openssl", ["/usr/bin/openssl"]),
  },
  {
    name: "chromium",
    what: "the browser of the UI tests (driven by Playwright; no browser is downloaded)",
    installed: () =>
      process.env.CHROMIUM_PATH && usePath
        ? fs.existsSync(process.env.CHROMIUM_PATH)
        : fs.existsSync(system("/usr/bin/chromium")),
  },
];

/** What setup.sh builds in the checkout. */
const CHECKOUT = [
  {
    what: "node_modules (npm ci)",
    installed: () =>
      fs.existsSync(path.join(ROOT, "node_modules", "typescript", "package.json")) &&
      fs.existsSync(path.join(ROOT, "node_modules", "tslab", "package.json")),
  },
  {
    what: ".venv with JupyterLab and Python CodeCarbon (pip)",
    installed: () => fs.existsSync(path.join(ROOT, ".venv", "bin", "jupyter")),
  },
  {
    what: "the tslab kernel registered in .venv",
    installed: () => fs.existsSync(path.join(ROOT, ".venv", "share", "jupyter", "kernels", "tslab", "kernel.json")),
  },
];

const APT = "sudo apt-get install -y --no-install-recommends";

function missing() {
  return { packages: PACKAGES.filter((p) => !p.installed()), checkout: CHECKOUT.filter((c) => !c.installed()) };
}

/** The one message for `npm test`: everything missing, then the command(s) that fix it. */
function message({ packages, checkout }) {
  if (packages.length === 0 && checkout.length === 0) return null;
  const lines = ["Missing prerequisites:"];
  for (const p of packages) lines.push(`  - Debian package ${p.name}: ${p.what}`);
  for (const c of checkout) lines.push(`  - ${c.what}`);
  lines.push("");
  lines.push(
    "Run `bash scripts/setup.sh`: it sets up the checkout" +
      (packages.length ? " and installs the packages (as root, or with sudo)." : "."),
  );
  if (packages.length) lines.push(`Or install the packages yourself: ${APT} ${packages.map((p) => p.name).join(" ")}`);
  return lines.join("\n");
}

module.exports = { PACKAGES, CHECKOUT, APT, missing, message };

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args.includes("--all-packages")) {
    console.log(PACKAGES.map((p) => p.name).join(" "));
  } else if (args.includes("--missing-packages")) {
    console.log(
      missing()
        .packages.map((p) => p.name)
        .join(" "),
    );
  } else {
    const text = message(missing());
    if (text) {
      console.error(text);
      process.exit(1);
    }
    console.log("prerequisites: all present");
  }
}
