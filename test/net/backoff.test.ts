/** The one retry policy of the network outputs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffMs, RetryGate } from "../../src/net/backoff";

test("1 s after the first failure, doubling, at most a minute", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map(backoffMs), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
});

test("a gate skips reports during the backoff, lets forced ones through, and says when it recovers", () => {
  let clock = 0;
  const gate = new RetryGate(() => clock);
  assert.equal(gate.allows(false), true);
  gate.failed();
  assert.equal(gate.allows(false), false);
  assert.equal(gate.allows(true), true, "flush and stop always try");
  clock = 999;
  assert.equal(gate.allows(false), false);
  clock = 1000;
  assert.equal(gate.allows(false), true);
  gate.failed();
  clock += 1999;
  assert.equal(gate.allows(false), false, "the second wait is 2 s");
  assert.equal(gate.succeeded(), true, "recovery after failures is news");
  assert.equal(gate.succeeded(), false);
  assert.equal(gate.allows(false), true);
});
