import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { estimateDimmCount, isArmArchitecture, ramPowerW } from "../../src/measure/ram-model";

describe("estimateDimmCount", () => {
  const vectors: Array<[number, number]> = [
    [0.5, 1],
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 2],
    [8, 2],
    [16, 2],
    [16.5, 4],
    [32, 4],
    [64, 4],
    [65, 8],
    [96, 8],
    [128, 8],
    // Above 128 GB: the biggest module ≤ size/8, as many as needed, at most 32.
    [129, 9], // 16 GB modules (16 ≤ 16.1)
    [256, 8], // 32 GB modules
    [512, 8], // 64 GB modules
    [1024, 8], // 128 GB modules
    [2048, 16],
    [4096, 32],
    [8192, 32],
  ];
  for (const [sizeGB, dimms] of vectors) {
    test(`${sizeGB} GB → ${dimms} DIMMs`, () => {
      assert.equal(estimateDimmCount(sizeGB), dimms);
    });
  }
});

describe("ramPowerW on x86 (5 W per DIMM, 10 W floor)", () => {
  const vectors: Array<[number, number]> = [
    [1, 10],
    [8, 10],
    [16, 10],
    [32, 20],
    [64, 20],
    [96, 38],
    [128, 38],
    [256, 38],
    [512, 38],
    [1024, 38],
    [2048, 70],
    [4096, 126],
    [8192, 126],
  ];
  for (const [sizeGB, powerW] of vectors) {
    test(`${sizeGB} GB → ${powerW} W`, () => {
      assert.equal(ramPowerW(sizeGB, false), powerW);
    });
  }

  test("the diminishing bands: 9 DIMMs (129 GB) cost 4×5 + 4×4.5 + 1×4", () => {
    assert.equal(ramPowerW(129, false), 5 * 4 + 5 * 0.9 * 4 + 5 * 0.8 * 1);
  });
});

describe("ramPowerW on ARM (1.5 W per DIMM, 3 W floor)", () => {
  const vectors: Array<[number, number]> = [
    [1, 3],
    [4, 3],
    [16, 3],
    [64, 6],
  ];
  for (const [sizeGB, powerW] of vectors) {
    test(`${sizeGB} GB → ${powerW} W`, () => {
      assert.equal(ramPowerW(sizeGB, true), powerW);
    });
  }

  test("a tiny process is still charged the floor", () => {
    assert.equal(ramPowerW(0.01, true), 3);
    assert.equal(ramPowerW(0.01, false), 10);
  });
});

describe("ramPowerW consistency", () => {
  test("equal for sizes with the same DIMM count", () => {
    assert.equal(ramPowerW(33, false), ramPowerW(64, false));
    assert.equal(ramPowerW(65, true), ramPowerW(128, true));
  });

  test("never falls as memory grows, and W per GB falls on large systems", () => {
    let previous = 0;
    for (let sizeGB = 1; sizeGB <= 8192; sizeGB *= 2) {
      const powerW = ramPowerW(sizeGB, false);
      assert.ok(powerW >= previous, `${sizeGB} GB`);
      previous = powerW;
    }
    assert.ok(ramPowerW(4096, false) / 4096 < ramPowerW(256, false) / 256);
  });
});

describe("isArmArchitecture", () => {
  test("arm, arm64 and aarch64 are ARM; x64, ia32 and others are not", () => {
    for (const arch of ["arm", "arm64", "aarch64", "ARMv7l", "AARCH64"])
      assert.equal(isArmArchitecture(arch), true, arch);
    for (const arch of ["x64", "ia32", "x86_64", "ppc64", "s390x", "riscv64", ""])
      assert.equal(isArmArchitecture(arch), false, arch);
  });

  test("defaults to this process's architecture", () => {
    assert.equal(isArmArchitecture(), process.arch === "arm" || process.arch === "arm64");
  });
});
