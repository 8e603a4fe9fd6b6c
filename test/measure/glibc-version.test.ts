/**
 * The glibc version read from the C library's banner: the same answer as Node's diagnostic
 * report on this machine, and undefined (so the caller asks the report) for anything it cannot
 * read with certainty: fixture libraries built here byte by byte.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { glibcVersionFromLibrary } from "../../src/measure/glibc-version";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-glibc-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const BANNER = "GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\nCopyright (C) 2022\n";

/** An ELF64 little-endian file with a section-name table and a `.rodata` holding `rodata`. */
function elf64(rodata: Buffer, edit: (header: Buffer) => void = () => undefined): Buffer {
  const names = Buffer.from("\0.shstrtab\0.rodata\0", "latin1");
  const namesAt = 64;
  const rodataAt = namesAt + names.length;
  const sectionsAt = rodataAt + rodata.length;
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // 64-bit
  header[5] = 1; // little-endian
  header.writeBigUInt64LE(BigInt(sectionsAt), 0x28);
  header.writeUInt16LE(64, 0x3a);
  header.writeUInt16LE(3, 0x3c);
  header.writeUInt16LE(1, 0x3e);
  edit(header);
  const section = (name: number, offset: number, size: number) => {
    const entry = Buffer.alloc(64);
    entry.writeUInt32LE(name, 0);
    entry.writeBigUInt64LE(BigInt(offset), 0x18);
    entry.writeBigUInt64LE(BigInt(size), 0x20);
    return entry;
  };
  return Buffer.concat([
    header,
    names,
    rodata,
    section(0, 0, 0),
    section(1, namesAt, names.length),
    section(11, rodataAt, rodata.length),
  ]);
}

let fixtures = 0;
/** A maps file naming `bytes`, saved as `<folder>/<fileName>`, as the process's C library. */
function mapsFor(bytes: Buffer, fileName = "libc.so.6"): string {
  const folder = path.join(root, `lib-${++fixtures}`);
  fs.mkdirSync(folder);
  const library = path.join(folder, fileName);
  fs.writeFileSync(library, bytes);
  const maps = path.join(folder, "maps");
  fs.writeFileSync(
    maps,
    [
      `55d0c0000000-55d0c0200000 r--p 00000000 fe:00 11 ${process.execPath}`,
      `7f8fcd204000-7f8fcd22a000 r--p 00000000 fe:00 12 ${library}`,
      "7ffd1e5c3000-7ffd1e5e4000 rw-p 00000000 00:00 0                          [stack]",
      "",
    ].join("\n"),
  );
  return maps;
}

test("on this machine it answers what Node's diagnostic report says", { skip: process.platform !== "linux" }, () => {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  assert.equal(glibcVersionFromLibrary(), report.header?.glibcVersionRuntime);
});

test("the banner is found past a decoy, 32 KiB into the section", () => {
  const decoy = Buffer.from("GNU C Library is mentioned here without a version\0", "latin1");
  const padding = Buffer.alloc(32 * 1024 - 10 - decoy.length, 0x2e);
  const rodata = Buffer.concat([decoy, padding, Buffer.from(BANNER, "latin1"), Buffer.alloc(100)]);
  assert.equal(glibcVersionFromLibrary(mapsFor(elf64(rodata))), "2.36");
  // Older glibc installs libc-<version>.so; development builds say 2.37.9000.
  const development = Buffer.from(
    BANNER.replace("stable release version 2.36", "development release version 2.37.9000"),
  );
  assert.equal(glibcVersionFromLibrary(mapsFor(elf64(development), "libc-2.37.so")), "2.37.9000");
});

test("anything it cannot read with certainty answers undefined", () => {
  const good = elf64(Buffer.from(BANNER, "latin1"));
  const cases: Record<string, string> = {
    "no C library mapped (musl)": (() => {
      const maps = path.join(root, "maps-musl");
      fs.writeFileSync(maps, `7f8fcd204000-7f8fcd22a000 r-xp 00000000 fe:00 12 /lib/ld-musl-x86_64.so.1\n`);
      return maps;
    })(),
    "a maps file that is missing": path.join(root, "no-such-maps"),
    "a 32-bit library": mapsFor(elf64(Buffer.from(BANNER), (h) => (h[4] = 1))),
    "a big-endian library": mapsFor(elf64(Buffer.from(BANNER), (h) => (h[5] = 2))),
    "not an ELF file": mapsFor(Buffer.from(`#!/bin/sh\n${BANNER}`)),
    "section headers past the end": mapsFor(elf64(Buffer.from(BANNER), (h) => h.writeBigUInt64LE(1n << 40n, 0x28))),
    "a name table index out of range": mapsFor(elf64(Buffer.from(BANNER), (h) => h.writeUInt16LE(9, 0x3e))),
    "a truncated library": mapsFor(good.subarray(0, good.length - 100)),
    "no banner in .rodata": mapsFor(elf64(Buffer.from("GNU C Library, but no version here\n"))),
    "a library deleted since it was mapped": (() => {
      const maps = mapsFor(good);
      fs.rmSync(path.join(path.dirname(maps), "libc.so.6"));
      return maps;
    })(),
  };
  for (const [what, maps] of Object.entries(cases)) assert.equal(glibcVersionFromLibrary(maps), undefined, what);
});
