// Regenerates data/ from the reference data beside the project (default ../shared/reference-data,
// or the folder given as the first argument). Each dataset has its own generator module.
const path = require("node:path");
const source = path.resolve(
  process.argv[2] ?? path.join(__dirname, "..", "..", "shared", "reference-data", "codecarbon"),
);
const target = path.join(__dirname, "..", "data");
for (const generator of [
  "./data/intensity.js",
  "./data/cpu-tdp.js",
  "./data/iso-countries.js",
  "./data/latest-edition.js",
  "./data/us-states-egrid.js",
]) {
  require(generator).generate({ source, target });
}
