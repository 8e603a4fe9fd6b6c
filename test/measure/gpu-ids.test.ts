import { test, describe, afterEach } from "node:test";
import assert from "node:assert/strict";
import { gpuIdsFromEnvironment, normalizeGpuIds, selectGpus } from "../../src/measure/gpu-ids";
import { setLogSink, type LogLevel } from "../../src/log";

const TWO_TEST_GPUS = [
  { index: 0, uuid: "uuid-1" },
  { index: 1, uuid: "uuid-2" },
];
const REAL_GPUS = [
  { index: 0, uuid: "GPU-4e81c2a0-9d1f-4c2b-8a55-0f2e6b7d9c11" },
  { index: 1, uuid: "GPU-9b02d7f4-1e3a-4f6c-b7d8-2a4c6e8f0b13" },
  { index: 2, uuid: "GPU-4e8f0000-0000-4000-8000-000000000000" },
];

function captureLogs(): Array<{ level: LogLevel; message: string }> {
  const lines: Array<{ level: LogLevel; message: string }> = [];
  setLogSink((level, message) => lines.push({ level, message }));
  return lines;
}

afterEach(() => setLogSink(undefined));

describe("normalizeGpuIds: strings", () => {
  const vectors: Array<[string, string[]]> = [
    ["0, 1", ["0", "1"]],
    ["[0, 1, 2", ["0", "1", "2"]],
    ["(0, 1, 2)", ["0", "1", "2"]],
    ["MIG-f1e$%^", ["MIG-f1e"]],
    ["", []],
    [",,3,", ["3"]],
  ];
  for (const [input, expected] of vectors) {
    test(`${JSON.stringify(input)} gives ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(normalizeGpuIds(input), expected);
    });
  }
});

describe("normalizeGpuIds: lists and other values", () => {
  test("ints stay ints, strings are cleaned and flattened", () => {
    assert.deepEqual(normalizeGpuIds([0, "MIG-f1e$%^", "1, 2", "GPU-abcd!"]), [0, "MIG-f1e", "1", "2", "GPU-abcd"]);
  });

  test("numeric strings stay strings, as in CodeCarbon", () => {
    assert.deepEqual(normalizeGpuIds(["0"]), ["0"]);
  });

  test("items of other types are skipped with a warning", () => {
    const logs = captureLogs();
    assert.deepEqual(normalizeGpuIds([1, true, { id: 2 }, 1.5, "3"]), [1, "3"]);
    assert.equal(logs.filter((l) => l.level === "warning").length, 3);
  });

  test("null and undefined mean nothing is configured", () => {
    assert.equal(normalizeGpuIds(null), null);
    assert.equal(normalizeGpuIds(undefined), null);
  });

  test("a single integer is a one-element list", () => {
    assert.deepEqual(normalizeGpuIds(3), [3]);
  });

  test("an unsupported value is ignored with a warning", () => {
    const logs = captureLogs();
    assert.equal(normalizeGpuIds({ gpu: 0 }), null);
    assert.equal(logs.length, 1);
    assert.equal(logs[0]?.level, "warning");
  });
});

describe("gpuIdsFromEnvironment", () => {
  test("CUDA_VISIBLE_DEVICES is read", () => {
    assert.deepEqual(gpuIdsFromEnvironment({ CUDA_VISIBLE_DEVICES: "1" }), ["1"]);
  });

  test("CUDA_VISIBLE_DEVICES wins over ROCR_VISIBLE_DEVICES", () => {
    assert.deepEqual(gpuIdsFromEnvironment({ CUDA_VISIBLE_DEVICES: "0,1", ROCR_VISIBLE_DEVICES: "2" }), ["0", "1"]);
  });

  test("ROCR_VISIBLE_DEVICES is the fallback", () => {
    assert.deepEqual(gpuIdsFromEnvironment({ ROCR_VISIBLE_DEVICES: "GPU-abc, 3" }), ["GPU-abc", "3"]);
  });

  test("neither set gives null", () => {
    assert.equal(gpuIdsFromEnvironment({}), null);
  });

  test("set but empty hides every GPU", () => {
    assert.deepEqual(gpuIdsFromEnvironment({ CUDA_VISIBLE_DEVICES: "" }), []);
  });

  test("CUDA_VISIBLE_DEVICES=1 selects device 1 of two", () => {
    const ids = gpuIdsFromEnvironment({ CUDA_VISIBLE_DEVICES: "1" });
    assert.ok(ids !== null);
    assert.deepEqual(selectGpus(ids, TWO_TEST_GPUS).indices, [1]);
  });
});

describe("selectGpus: the CodeCarbon table (two GPUs, uuid-1 and uuid-2)", () => {
  const vectors: Array<[Array<number | string>, number[]]> = [
    [
      [0, 1, 2],
      [0, 1],
    ],
    [["2"], []],
    [
      ["uuid-1", "uuid-2"],
      [0, 1],
    ],
    [["MIG-uuid-1"], [0]],
    [["uuid-3"], []],
  ];
  for (const [ids, expected] of vectors) {
    test(`${JSON.stringify(ids)} selects ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(selectGpus(ids, TWO_TEST_GPUS).indices, expected);
    });
  }

  test("an out-of-range index and an unknown UUID are reported", () => {
    const { warnings } = selectGpus([2, "uuid-3"], TWO_TEST_GPUS);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? "", /GPU ID 2 out of range/);
    assert.match(warnings[1] ?? "", /uuid-3/);
  });

  test("results are sorted and de-duplicated", () => {
    assert.deepEqual(selectGpus([1, "0", 0, "uuid-2"], TWO_TEST_GPUS).indices, [0, 1]);
  });

  test("a negative index is out of range", () => {
    const result = selectGpus(["-1"], TWO_TEST_GPUS);
    assert.deepEqual(result.indices, []);
    assert.equal(result.warnings.length, 1);
  });
});

describe("selectGpus: real NVIDIA UUIDs", () => {
  test("a full GPU- UUID matches its device", () => {
    assert.deepEqual(selectGpus(["GPU-9b02d7f4-1e3a-4f6c-b7d8-2a4c6e8f0b13"], REAL_GPUS).indices, [1]);
  });

  test("a GPU- prefix matches", () => {
    assert.deepEqual(selectGpus(["GPU-9b02"], REAL_GPUS).indices, [1]);
  });

  test("a prefix without GPU- matches", () => {
    assert.deepEqual(selectGpus(["9b02d7f4"], REAL_GPUS).indices, [1]);
  });

  test("upper-case hex matches", () => {
    assert.deepEqual(selectGpus(["GPU-9B02D7F4"], REAL_GPUS).indices, [1]);
  });

  test("a UUID that went through normalisation still matches", () => {
    const ids = normalizeGpuIds("GPU-4e81c2a0-9d1f-4c2b-8a55-0f2e6b7d9c11");
    assert.ok(ids !== null);
    assert.deepEqual(selectGpus(ids, REAL_GPUS).indices, [0]);
  });

  test("a prefix shared by two devices is ambiguous and selects nothing", () => {
    const result = selectGpus(["GPU-4e8"], REAL_GPUS);
    assert.deepEqual(result.indices, []);
    assert.match(result.warnings[0] ?? "", /matches 2 GPU UUIDs/);
  });

  test("a bare GPU- names nothing", () => {
    const result = selectGpus(["GPU-"], REAL_GPUS);
    assert.deepEqual(result.indices, []);
    assert.equal(result.warnings.length, 1);
  });

  test("indices and UUIDs can be mixed", () => {
    assert.deepEqual(selectGpus([2, "GPU-4e81c2a0"], REAL_GPUS).indices, [0, 2]);
  });
});
