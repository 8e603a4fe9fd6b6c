// Regenerates data/ from its sources (CodeCarbon's reference data, @tgwf/co2's Ember and
// Electricity Maps figures, the ISO table) and prints what changed: every country whose
// intensity moved by more than 5 % in an edition, and countries that appeared or disappeared.
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
  return {
    codecarbon: Object.fromEntries(Object.entries(codecarbon).map(([code, c]) => [code, c.intensityGPerKWh])),
    latest: Object.fromEntries(Object.entries(latest.countries).map(([code, c]) => [code, c.intensityGPerKWh])),
    "latest zones": Object.fromEntries(Object.entries(latest.zones).map(([code, z]) => [code, z.intensityGPerKWh])),
  };
}

const before = countryFigures();
execFileSync(process.execPath, [path.join(__dirname, "generate-data.js"), ...process.argv.slice(2)], { stdio: "inherit" });
const after = countryFigures();

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
  console.log(moved.length === 0 ? `${edition}: no figure moved by more than 5 %` : `${edition}: ${moved.length} moved by more than 5 %\n${moved.sort().join("\n")}`);
}
console.log(changes === 0 ? "data/ is up to date with its sources." : "Review the diff of data/ (git diff data/) before committing.");
