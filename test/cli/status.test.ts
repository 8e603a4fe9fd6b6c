import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatDuration } from "../../src/protocol/format";
import {
  showLiveStatus,
  statusText,
  summaryLines,
  type MeasurementSource,
  type StatusWriter,
} from "../../src/cli/status";
import type { MeasurementSample } from "../../src/output/sink";
import type { EmissionsData } from "../../src/output/emissions-data";

function sample(elapsedS: number): MeasurementSample {
  return {
    timestamp: "2026-11-28T10:00:00.000Z",
    elapsedS,
    intervalS: 10,
    powerW: { cpu: 30, gpu: 10, ram: 2 },
    energyKWh: { cpu: 0.0002, gpu: 0.0001, ram: 0.00005, total: 0.00035 },
    emissionsKg: 0.00002,
    intensityGPerKWh: 56,
  };
}

class FakeSource implements MeasurementSource {
  listeners = new Set<(s: MeasurementSample) => void>();
  onMeasurement(listener: (s: MeasurementSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(s: MeasurementSample): void {
    for (const listener of this.listeners) listener(s);
  }
}

function recorder(isTTY: boolean, columns = 200): StatusWriter & { chunks: string[] } {
  const chunks: string[] = [];
  return { isTTY, columns, chunks, write: (text: string) => chunks.push(text) };
}

describe("status line", () => {
  test("shows power, energy, emissions, rate and elapsed time", () => {
    // 0.02 g over 36 s is 2 g/h.
    assert.equal(statusText(sample(36)), "42 W · 0.35 Wh · 0.02 gCO2eq · 2 g/h · 36 s");
  });

  test("durations read as people write them", () => {
    assert.equal(formatDuration(4.24), "4.2 s");
    assert.equal(formatDuration(187), "3 min 07 s");
    assert.equal(formatDuration(3725), "1 h 02 min 05 s");
  });

  test("on a terminal one line is redrawn in place and cleared at the end", () => {
    const source = new FakeSource();
    const out = recorder(true);
    const stop = showLiveStatus(source, out, { verbose: false });
    source.emit(sample(10));
    source.emit(sample(20));
    stop();
    assert.equal(out.chunks.length, 3);
    for (const chunk of out.chunks)
      assert.ok(chunk.startsWith("\r\x1b[2K") && !chunk.includes("\n"), JSON.stringify(chunk));
    assert.equal(out.chunks[2], "\r\x1b[2K");
    assert.equal(source.listeners.size, 0);
  });

  test("a line longer than the terminal is cut so it can be redrawn", () => {
    const source = new FakeSource();
    const out = recorder(true, 20);
    showLiveStatus(source, out, { verbose: false });
    source.emit(sample(10));
    assert.equal(out.chunks[0], `\r\x1b[2K${"codecarbon: 42 W · 0.35 Wh".slice(0, 19)}`);
  });

  test("elsewhere: nothing by default, one plain line per measurement with verbose", () => {
    const quietSource = new FakeSource();
    const quiet = recorder(false);
    showLiveStatus(quietSource, quiet, { verbose: false });
    quietSource.emit(sample(10));
    assert.deepEqual(quiet.chunks, []);
    assert.equal(quietSource.listeners.size, 0);

    const source = new FakeSource();
    const verbose = recorder(false);
    const stop = showLiveStatus(source, verbose, { verbose: true });
    source.emit(sample(10));
    source.emit(sample(20));
    stop();
    assert.equal(verbose.chunks.length, 2);
    assert.ok(verbose.chunks.every((chunk) => chunk.startsWith("codecarbon: 42 W") && chunk.endsWith("\n")));
  });
});

describe("summary", () => {
  test("gives duration, energy in Wh, emissions in g and the CSV path", () => {
    const row = { duration: 12.5, energy_consumed: 0.0021, emissions: 0.000118 } as EmissionsData;
    assert.deepEqual(
      summaryLines({ subject: "node x.js", outcome: "exit status 0", row, savedTo: "/w/emissions.csv" }),
      [
        "codecarbon: node x.js (exit status 0)",
        "  Duration:  12.5 s",
        "  Energy:    2.1 Wh",
        "  Emissions: 0.118 g CO2eq",
        "  Saved to:  /w/emissions.csv",
      ],
    );
  });

  test("says N/A when nothing was saved", () => {
    assert.deepEqual(summaryLines({ subject: "x", row: undefined, savedTo: null }), [
      "codecarbon: x",
      "  Emissions: N/A (no measurement was saved)",
    ]);
  });
});
