// The quick-start demo: track a short computation offline with the bundled data and show where
// the row went. Run with `npm run demo` (it builds first).
const path = require("node:path");
const { OfflineEmissionsTracker } = require("..");

function countPrimes(limit) {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

async function main() {
  const tracker = new OfflineEmissionsTracker({
    projectName: "demo",
    countryIsoCode: process.env.CODECARBON_COUNTRY_ISO_CODE ?? "CAN",
    measurePowerSecs: 1,
  });
  tracker.start();
  const primes = countPrimes(12_000_000); // a few seconds of one busy core
  const kg = await tracker.stop();
  const row = tracker.finalEmissionsData;
  const csv = path.resolve(tracker.config.settings.outputDir, tracker.config.settings.outputFile);
  console.log(`Found ${primes} primes.`);
  if (row) {
    console.log(
      `Energy: ${(row.energy_consumed * 1000).toFixed(4)} Wh (CPU ${row.cpu_power.toFixed(1)} W, RAM ${row.ram_power.toFixed(1)} W) over ${row.duration.toFixed(1)} s`,
    );
    console.log(`Emissions: ${(kg * 1000).toFixed(4)} g CO2eq in ${row.country_name} (${row.country_iso_code})`);
  }
  console.log(`Row written to ${csv}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
