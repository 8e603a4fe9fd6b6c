/**
 * The version of the GNU C library this process runs on, as `gnu_get_libc_version()` (and so
 * Python's `platform.libc_ver()`) gives it, for the CSV's `os` column.
 *
 * Node tells it only inside a full diagnostic report (`process.report.getReport()`), which costs
 * 4-6 ms here: most of a short run's measurement. glibc prints the same version in the banner
 * every build of it carries ("GNU C Library (Debian GLIBC 2.36-9) stable release version 2.36."),
 * in its read-only data. So the library the process has mapped is found in `/proc/self/maps`, its
 * `.rodata` section located through the ELF section headers, and the banner read from it: a few
 * small reads. Any doubt (no glibc mapped, as on musl, a 32-bit or big-endian build, a file that
 * does not parse) answers undefined, and the caller asks the diagnostic report instead.
 */
import * as fs from "node:fs";

/** A C library's file name: `libc.so.6` (glibc 2.34 and later) or `libc-2.31.so` (before). */
const LIBC_FILE = /\/libc(?:\.so\.6|-\d+\.\d+(?:\.\d+)?\.so)$/;
const BANNER_START = "GNU C Library ";
const BANNER = /^GNU C Library [^\n]*? release version (\d+\.\d+(?:\.\d+)?)/;

const ELF64_HEADER_BYTES = 64;
const SECTION_HEADER_BYTES = 64;
/** Bounds no real libc comes near: a file that claims more is not read further. */
const MAX_SECTIONS = 4096;
/** A libc's `.rodata` is 100-400 KB; one larger than this is left to the report. */
const MAX_READ_BYTES = 2 * 1024 * 1024;
const BANNER_MAX_BYTES = 256;

/** The version, or undefined when it cannot be told this way. `mapsFile` is a fixture in tests. */
export function glibcVersionFromLibrary(mapsFile = "/proc/self/maps"): string | undefined {
  try {
    const library = mappedLibc(fs.readFileSync(mapsFile, "latin1"));
    return library === undefined ? undefined : bannerVersion(library);
  } catch {
    return undefined;
  }
}

function mappedLibc(maps: string): string | undefined {
  for (const line of maps.split("\n")) {
    // address perms offset dev inode path: the path is everything after the fifth field.
    const file = /^\S+ \S+ \S+ \S+ \d+\s+(\/.*)$/.exec(line)?.[1];
    if (file !== undefined && LIBC_FILE.test(file)) return file;
  }
  return undefined;
}

function bannerVersion(file: string): string | undefined {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const read = (offset: number, length: number): Buffer => {
      if (!(offset >= 0 && length >= 0 && length <= MAX_READ_BYTES && offset + length <= size))
        throw new Error("out of bounds");
      const buffer = Buffer.alloc(length);
      if (fs.readSync(fd, buffer, 0, length, offset) !== length) throw new Error("short read");
      return buffer;
    };
    const header = read(0, ELF64_HEADER_BYTES);
    // "\x7fELF", 64-bit (class 2), little-endian (data 1): the others are left to the report.
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return undefined;
    const sectionsAt = Number(header.readBigUInt64LE(0x28));
    const entrySize = header.readUInt16LE(0x3a);
    const count = header.readUInt16LE(0x3c);
    const namesIndex = header.readUInt16LE(0x3e);
    if (entrySize !== SECTION_HEADER_BYTES || count > MAX_SECTIONS || namesIndex >= count) return undefined;
    const sections = read(sectionsAt, count * entrySize);
    const section = (i: number) => ({
      name: sections.readUInt32LE(i * entrySize),
      offset: Number(sections.readBigUInt64LE(i * entrySize + 0x18)),
      size: Number(sections.readBigUInt64LE(i * entrySize + 0x20)),
    });
    const names = section(namesIndex);
    const nameTable = read(names.offset, names.size);
    for (let i = 0; i < count; i++) {
      const { name, offset, size: length } = section(i);
      if (nameTable.toString("latin1", name, nameTable.indexOf(0, name)) !== ".rodata") continue;
      return findBanner(read(offset, length));
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** The version in the first "GNU C Library … release version X.Y" of `data`. */
function findBanner(data: Buffer): string | undefined {
  for (let start = data.indexOf(BANNER_START, 0, "latin1"); start !== -1;) {
    const version = BANNER.exec(data.toString("latin1", start, start + BANNER_MAX_BYTES))?.[1];
    if (version !== undefined) return version;
    start = data.indexOf(BANNER_START, start + 1, "latin1");
  }
  return undefined;
}
