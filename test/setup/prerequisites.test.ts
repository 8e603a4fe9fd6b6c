/**
 * The prerequisites of a fresh machine: the one message `npm test` prints when system packages
 * are missing, and setup.sh's three ways with them (install as root, install with sudo, stop with
 * the one command to run), seen on a machine without the packages: the system files are looked
 * for under an empty folder (CODECARBON_PREREQ_ROOT), and apt-get, sudo, service and id are fakes
 * on a PATH of their own that record what they were asked to do. Nothing is installed or stopped
 * for real.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const CHECK = path.join(REPO_ROOT, "scripts", "prerequisites.js");
const SETUP = path.join(REPO_ROOT, "scripts", "setup.sh");
const ALL = [
  "python3-venv",
  "tinyproxy",
  "squid",
  "prometheus",
  "prometheus-pushgateway",
  "postgresql",
  "openssl",
  "chromium",
];

/** What each package puts where the check looks. */
const FILES: Record<string, string[]> = {
  "python3-venv": ["usr/lib/python3.11/ensurepip/__init__.py"],
  tinyproxy: ["usr/bin/tinyproxy"],
  squid: ["usr/sbin/squid"],
  prometheus: ["usr/bin/prometheus"],
  "prometheus-pushgateway": ["usr/bin/prometheus-pushgateway"],
  postgresql: [
    "usr/lib/postgresql/15/bin/postgres",
    "usr/lib/postgresql/15/bin/initdb",
    "usr/lib/postgresql/15/bin/pg_ctl",
  ],
  openssl: ["usr/bin/openssl"],
  chromium: ["usr/bin/chromium"],
};

function emptyMachine(): { dir: string; root: string; bin: string; log: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-prereq-"));
  const root = path.join(dir, "root");
  const bin = path.join(dir, "bin");
  fs.mkdirSync(root);
  fs.mkdirSync(bin);
  return {
    dir,
    root,
    bin,
    log: path.join(dir, "calls.log"),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fake command: a Node script that logs its arguments, then does `body` (JavaScript). */
function fake(bin: string, log: string, name: string, body = ""): void {
  const file = path.join(bin, name);
  fs.writeFileSync(
    file,
    `#!${process.execPath}\nconst fs = require("node:fs"), path = require("node:path");\nconst args = process.argv.slice(2);\nfs.appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(name)} + " " + args.join(" ") + "\\n");\n${body}\n`,
  );
  fs.chmodSync(file, 0o755);
}

/** PATH for setup.sh: the fakes and the few real tools its first step uses, nothing else. */
function toolbox(bin: string): void {
  for (const tool of ["bash", "dirname", "sleep", "env", "true", "python3"]) {
    const real = spawnSync("bash", ["-c", `type -P ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (real) fs.symlinkSync(real, path.join(bin, tool));
  }
  fs.symlinkSync(process.execPath, path.join(bin, "node"));
}

function runSetup(machine: ReturnType<typeof emptyMachine>, uid: number) {
  toolbox(machine.bin);
  fake(machine.bin, machine.log, "id", `process.stdout.write("${uid}\\n");`);
  const files = JSON.stringify(FILES);
  fake(
    machine.bin,
    machine.log,
    "apt-get",
    `if (args[0] === "install") for (const name of args.filter((a) => !a.startsWith("-")).slice(1)) for (const f of (${files})[name] || []) { const full = path.join(process.env.CODECARBON_PREREQ_ROOT, f); fs.mkdirSync(path.dirname(full), { recursive: true }); fs.writeFileSync(full, ""); }`,
  );
  fake(machine.bin, machine.log, "service");
  return spawnSync(path.join(machine.bin, "bash"), [SETUP, "--system-only"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    input: "",
    timeout: 60_000,
    env: { PATH: machine.bin, HOME: machine.dir, CODECARBON_PREREQ_ROOT: machine.root },
  });
}

describe("prerequisites", () => {
  test("npm test's check names every missing package in one message, with setup.sh and the apt-get command", () => {
    const machine = emptyMachine();
    try {
      const run = spawnSync(process.execPath, [CHECK], {
        encoding: "utf8",
        env: { ...process.env, CODECARBON_PREREQ_ROOT: machine.root },
      });
      assert.equal(run.status, 1, run.stderr);
      for (const name of ALL) assert.match(run.stderr, new RegExp(`Debian package ${name}:`));
      assert.match(run.stderr, /Run `bash scripts\/setup.sh`: it sets up the checkout and installs the packages/);
      assert.ok(run.stderr.includes(`sudo apt-get install -y --no-install-recommends ${ALL.join(" ")}`), run.stderr);
      assert.equal(
        spawnSync(process.execPath, [CHECK, "--missing-packages"], {
          encoding: "utf8",
          env: { ...process.env, CODECARBON_PREREQ_ROOT: machine.root },
        }).stdout.trim(),
        ALL.join(" "),
      );

      for (const f of Object.values(FILES).flat()) {
        fs.mkdirSync(path.dirname(path.join(machine.root, f)), { recursive: true });
        fs.writeFileSync(path.join(machine.root, f), "");
      }
      const present = spawnSync(process.execPath, [CHECK, "--missing-packages"], {
        encoding: "utf8",
        env: { ...process.env, CODECARBON_PREREQ_ROOT: machine.root },
      });
      assert.equal(present.stdout.trim(), "");
    } finally {
      machine.cleanup();
    }
  });

  test("setup.sh as root installs the missing packages with apt-get and stops their daemons", () => {
    const machine = emptyMachine();
    try {
      const run = runSetup(machine, 0);
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, new RegExp(`\\[1/5\\] system packages: installing ${ALL.join(" ")}`));
      const calls = fs.readFileSync(machine.log, "utf8");
      assert.match(calls, /^apt-get update -qq -o DPkg::Lock::Timeout=600$/m);
      assert.ok(calls.includes(`apt-get install -y --no-install-recommends ${ALL.join(" ")} -qq`), calls);
      for (const service of ["tinyproxy", "squid", "prometheus", "prometheus-pushgateway", "postgresql"])
        assert.match(calls, new RegExp(`^service ${service} stop$`, "m"));
      assert.doesNotMatch(calls, /^sudo/m);
    } finally {
      machine.cleanup();
    }
  });

  test("setup.sh as a user with sudo installs them through sudo", () => {
    const machine = emptyMachine();
    try {
      fake(
        machine.bin,
        machine.log,
        "sudo",
        `const rest = args[0] === "-n" ? args.slice(1) : args; const r = require("node:child_process").spawnSync(rest[0], rest.slice(1), { stdio: "inherit" }); process.exit(r.status ?? 1);`,
      );
      const run = runSetup(machine, 1000);
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      const calls = fs.readFileSync(machine.log, "utf8");
      assert.ok(
        calls.includes(
          `sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${ALL.join(" ")} -qq`,
        ),
        calls,
      );
    } finally {
      machine.cleanup();
    }
  });

  test("setup.sh as a user without sudo stops at once with the one command to run", () => {
    const machine = emptyMachine();
    try {
      const run = runSetup(machine, 1000);
      assert.equal(run.status, 1, run.stdout);
      assert.ok(
        run.stderr.includes(`  sudo apt-get install -y --no-install-recommends ${ALL.join(" ")}\n`),
        run.stderr,
      );
      assert.doesNotMatch(run.stdout, /npm ci/);
      assert.doesNotMatch(fs.existsSync(machine.log) ? fs.readFileSync(machine.log, "utf8") : "", /^apt-get/m);
    } finally {
      machine.cleanup();
    }
  });
});
