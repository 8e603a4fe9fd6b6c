// Regenerates data/ from its sources (CodeCarbon's reference data, @tgwf/co2's Ember and
// Electricity Maps figures, the ISO table, the eGRID state rates) and prints what changed: every
// country, zone or US state whose intensity moved by more than 5 % in an edition, those that
// appeared or disappeared, and the US state → zone map with its changes.
//   node scripts/refresh-data.js [reference-folder]
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const data = path.join(__dirname, "..", "data");
const THRESHOLD = 0.05;

function countryFigures() {
  const read = (name) => JSON.parse(fs.readFileSync(path.join(data, name), "utf8"));
  const codecarbon = read("intensity-countries.json").countries;
  const latest = read("intensity-latest.json");
  const figures = (entries) =>
    Object.fromEntries(Object.entries(entries).map(([key, entry]) => [key, entry.intensityGPerKWh]));
  return {
    codecarbon: figures(codecarbon),
    "codecarbon US states (eGRID 2016)": figures(read("intensity-us-states.json").states),
    latest: figures(latest.countries),
    "latest zones": figures(latest.zones),
    // A state of the map moves with its zone: listed by state, so a state that changes zone shows too.
    "latest US states by zone": Object.fromEntries(
      Object.entries(latest.usStateZones ?? {}).map(([state, { zone }]) => [
        `${state} (${zone})`,
        latest.zones[zone]?.intensityGPerKWh,
      ]),
    ),
    "latest US states (newer eGRID)": figures(read("intensity-us-states-latest.json").states),
  };
}

/** The state → zone map as written into the latest edition. */
function stateZoneMap() {
  const latest = JSON.parse(fs.readFileSync(path.join(data, "intensity-latest.json"), "utf8"));
  return Object.fromEntries(Object.entries(latest.usStateZones ?? {}).map(([state, { zone }]) => [state, zone]));
}

const mapBefore = stateZoneMap();

const before = countryFigures();
execFileSync(process.execPath, [path.join(__dirname, "generate-data.js"), ...process.argv.slice(2)], {
  stdio: "inherit",
});
const after = countryFigures();
const mapAfter = stateZoneMap();

let changes = 0;
for (const edition of Object.keys(after)) {
  const moved = [];
  for (const code of new Set([...Object.keys(before[edition]), ...Object.keys(after[edition])])) {
    const was = before[edition][code];
    const now = after[edition][code];
    if (was === undefined) moved.push(`  ${code}: new, ${now} g/kWh`);
    else if (now === undefined) moved.push(`  ${code}: removed (was ${was} g/kWh)`);
    else if (was === 0 ? now !== 0 : Math.abs(now - was) / was > THRESHOLD) {
      moved.push(`  ${code}: ${was} → ${now} g/kWh (${(((now - was) / was) * 100).toFixed(1)} %)`);
    }
  }
  changes += moved.length;
  console.log(
    moved.length === 0
      ? `${edition}: no figure moved by more than 5 %`
      : `${edition}: ${moved.length} moved by more than 5 %\n${moved.sort().join("\n")}`,
  );
}
const mapChanges = [];
for (const state of [...new Set([...Object.keys(mapBefore), ...Object.keys(mapAfter)])].sort()) {
  if (mapBefore[state] === mapAfter[state]) continue;
  mapChanges.push(`  ${state}: ${mapBefore[state] ?? "no zone"} → ${mapAfter[state] ?? "no zone (newer eGRID)"}`);
}
changes += mapChanges.length;
const byZone = {};
for (const [state, zone] of Object.entries(mapAfter)) (byZone[zone] ??= []).push(state);
console.log(`US state → zone map: ${Object.keys(mapAfter).length} states mapped, the others use eGRID`);
for (const zone of Object.keys(byZone).sort()) console.log(`  ${zone}: ${byZone[zone].sort().join(", ")}`);
console.log(
  mapChanges.length === 0
    ? "US state → zone map: unchanged"
    : `US state → zone map: ${mapChanges.length} changed\n${mapChanges.join("\n")}`,
);
console.log(
  changes === 0
    ? "data/ is up to date with its sources."
    : "Review the diff of data/ (git diff data/) before committing.",
);
