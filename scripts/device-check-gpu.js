// A short check on a machine with real NVIDIA GPUs: does our nvidia-smi reader see them, which
// power source does it pick, and do its energy figures agree with nvidia-smi's own power.draw?
// Run after `npm run build`: node scripts/device-check-gpu.js [seconds]
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { OfflineEmissionsTracker } = require("..");

const seconds = Number(process.argv[2] ?? 10);

function smi(args) {
  try {
    return execFileSync("nvidia-smi", args, { encoding: "utf8", timeout: 10_000 }).trim();
  } catch (error) {
    return `nvidia-smi ${args.join(" ")} failed: ${error.message}`;
  }
}

async function main() {
  console.log(smi(["-L"]));
  const fields = "index,name,uuid,power.draw,total_energy_consumption,utilization.gpu,memory.used,memory.total";
  console.log(smi([`--query-gpu=${fields}`, "--format=csv,nounits"]));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "cc-gpu-"));
  const tracker = new OfflineEmissionsTracker({
    countryIsoCode: "FRA",
    measurePowerSecs: 1,
    outputDir: out,
    logLevel: "info",
  });
  console.log("detected:", JSON.stringify(await tracker.getDetectedHardware()));
  const powerSamples = [];
  tracker.start();
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    const draw = smi(["--query-gpu=power.draw", "--format=csv,noheader,nounits"]).split("\n").map(Number);
    powerSamples.push(draw.reduce((a, b) => a + b, 0));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await tracker.stop();
  const row = tracker.finalEmissionsData;
  const meanDrawW = powerSamples.reduce((a, b) => a + b, 0) / powerSamples.length;
  console.log(
    JSON.stringify(
      {
        duration_s: row.duration,
        gpu_count: row.gpu_count,
        gpu_model: row.gpu_model,
        gpu_power_w: row.gpu_power,
        gpu_energy_kwh: row.gpu_energy,
        nvidia_smi_mean_power_draw_w: meanDrawW,
        ratio_ours_to_power_draw: row.gpu_power / meanDrawW,
        gpu_utilization_percent: row.gpu_utilization_percent,
        cpu_power_w: row.cpu_power,
        cpu_model: row.cpu_model,
      },
      null,
      2,
    ),
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
