/**
 * The schema is the single source: the generated TypeScript, the README table and the loader's
 * specs must all list the same keys, in the same order, with the same names.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import * as ts from "typescript";
import { CONFIG_KEYS, toCamelCase, toSnakeCase, type TrackerSettings } from "../../src/config";
import { LAB_ONLY_KEYS } from "../../src/config/options.generated";
import { checkCodeValue } from "../../src/config/coerce";
import { configSpecs, readSpecs } from "../../src/config/schema";
import { REPO_ROOT } from "./config-sandbox";

interface TypesGenerator {
  toCamelCase(snake: string): string;
  splitKeys(schema: unknown): { tracker: string[]; lab: string[] };
  renderTypes(schema: unknown): string;
  readSchema(): unknown;
  OUTPUT_FILE: string;
}
interface DocsGenerator {
  renderTable(schema: unknown): string;
  replaceTable(readme: string, table: string): string | undefined;
  START_MARKER: string;
  END_MARKER: string;
}

const TYPES_SCRIPT = path.join(REPO_ROOT, "scripts", "generate-config-types.js");
const DOCS_SCRIPT = path.join(REPO_ROOT, "scripts", "generate-config-docs.js");
const typesGenerator = require(TYPES_SCRIPT) as TypesGenerator;
const docsGenerator = require(DOCS_SCRIPT) as DocsGenerator;
const schema = typesGenerator.readSchema();
/** The tracker's keys: the schema's keys less the JupyterLab display keys (`"x-scope": "lab"`). */
const { tracker: schemaKeys, lab: labKeys } = typesGenerator.splitKeys(schema);

// Compile-time half of the check: the generated key list and the settings interface agree.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const generatedKeysMatchSettings: Equal<(typeof CONFIG_KEYS)[number]["camel"], keyof TrackerSettings> = true;

/** Member names of `interface TrackerSettings`, read from the generated source with the TypeScript parser. */
function settingsMembers(source: string): string[] {
  const file = ts.createSourceFile("options.generated.ts", source, ts.ScriptTarget.ES2022, true);
  const members: string[] = [];
  file.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === "TrackerSettings") {
      for (const member of node.members) {
        if (member.name !== undefined && ts.isIdentifier(member.name)) members.push(member.name.text);
      }
    }
  });
  return members;
}

/** The backticked keys in the first column of the README configuration table. */
function tableKeys(readme: string): string[] {
  const start = readme.indexOf(docsGenerator.START_MARKER);
  // The tracker's table ends where the JupyterLab display settings' table begins.
  const labTable = readme.indexOf("| setting |", start);
  const end = labTable >= 0 ? labTable : readme.indexOf(docsGenerator.END_MARKER);
  return readme
    .slice(start, end)
    .split("\n")
    .map((line) => /^\| `([a-z0-9_]+)` \|/.exec(line)?.[1])
    .filter((key): key is string => key !== undefined);
}

describe("names", () => {
  test("toCamelCase is the obvious snake → camel rule", () => {
    assert.equal(toCamelCase("force_carbon_intensity_g_co2e_kwh"), "forceCarbonIntensityGCo2eKwh");
    assert.equal(toCamelCase("measure_power_secs"), "measurePowerSecs");
    assert.equal(toCamelCase("country_2letter_iso_code"), "country2letterIsoCode");
    assert.equal(toCamelCase("pue"), "pue");
    assert.equal(toCamelCase("a__b"), "aB");
  });

  test("toSnakeCase inverts it for every key, and splits other names at capitals", () => {
    for (const key of schemaKeys) assert.equal(toSnakeCase(toCamelCase(key)), key);
    assert.equal(toSnakeCase("someNewOption"), "some_new_option");
  });

  test("the generator script and the runtime apply the same rule", () => {
    const samples = [...schemaKeys, "a__b", "_leading", "trailing_", "x_1y_z2", "already"];
    for (const sample of samples) assert.equal(typesGenerator.toCamelCase(sample), toCamelCase(sample), sample);
  });
});

describe("schema, generated types and README agree", () => {
  test("the committed options.generated.ts is what the generator writes now (drift check)", () => {
    const committed = fs.readFileSync(typesGenerator.OUTPUT_FILE, "utf8");
    assert.equal(committed, typesGenerator.renderTypes(schema), "run node scripts/generate-config-types.js");
    const check = spawnSync(process.execPath, [TYPES_SCRIPT, "--check"], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
  });

  test("schema keys == TrackerSettings members == CONFIG_KEYS == loader specs", () => {
    assert.ok(generatedKeysMatchSettings);
    const members = settingsMembers(fs.readFileSync(typesGenerator.OUTPUT_FILE, "utf8"));
    const camelKeys = schemaKeys.map(toCamelCase);
    assert.deepEqual(members, camelKeys);
    assert.deepEqual(
      CONFIG_KEYS.map((entry) => entry.snake),
      schemaKeys,
    );
    assert.deepEqual(
      CONFIG_KEYS.map((entry) => entry.camel),
      camelKeys,
    );
    assert.deepEqual(
      configSpecs().map((spec) => spec.key),
      schemaKeys,
    );
    assert.deepEqual([...LAB_ONLY_KEYS], labKeys);
  });

  test("JupyterLab display keys (x-scope lab) are in the settings editor's schema, not in TrackerSettings", () => {
    assert.deepEqual(labKeys, ["cell_footer"]);
    const members = settingsMembers(fs.readFileSync(typesGenerator.OUTPUT_FILE, "utf8"));
    assert.ok(!members.includes("cellFooter"));
    const table = docsGenerator.renderTable(schema);
    assert.ok(table.includes("| `cell_footer` | boolean | `true` |"));
    assert.ok(!table.includes("CODECARBON_CELL_FOOTER"));
    const copy = structuredClone(schema) as { properties: Record<string, Record<string, unknown>> };
    Object.assign(copy.properties["cell_footer"] ?? {}, { "x-scope": "kernel" });
    assert.throws(() => readSpecs(copy), /unknown x-scope "kernel"/);
  });

  test("the README table the docs script writes lists exactly the schema keys", () => {
    const readme = `# codecarbon\n\n## Configuration\n\n${docsGenerator.START_MARKER}\nold table\n${docsGenerator.END_MARKER}\n\nMore text.\n`;
    const updated = docsGenerator.replaceTable(readme, docsGenerator.renderTable(schema));
    assert.ok(updated !== undefined);
    assert.deepEqual(tableKeys(updated), schemaKeys);
    assert.ok(updated.endsWith(`${docsGenerator.END_MARKER}\n\nMore text.\n`));
    assert.ok(
      updated.includes(
        "| `measure_power_secs` | number (> 0, ≥ 0.001, ≤ 86400) | `15` | s | `CODECARBON_MEASURE_POWER_SECS` |",
      ),
    );
    assert.ok(updated.includes("| `gpu_ids` | list of integer \\| string or null | `null` |"));
  });

  test("the repository README's configuration table lists exactly the schema keys and is up to date", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    assert.ok(
      readme.includes(docsGenerator.START_MARKER) && readme.includes(docsGenerator.END_MARKER),
      "README.md lost its config-table markers",
    );
    assert.deepEqual(tableKeys(readme), schemaKeys);
    const check = spawnSync(process.execPath, [DOCS_SCRIPT, "--check"], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
  });

  test("generate-config-docs: --check exits 1 when stale, the plain run rewrites, exit 2 without markers", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
    try {
      const readmeFile = path.join(dir, "README.md");
      fs.writeFileSync(
        readmeFile,
        `intro\n${docsGenerator.START_MARKER}\n| stale |\n${docsGenerator.END_MARKER}\noutro\n`,
      );
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [DOCS_SCRIPT, "--readme", readmeFile, ...args], { encoding: "utf8" });
      assert.equal(run("--check").status, 1);
      assert.equal(run().status, 0);
      assert.equal(run("--check").status, 0);
      const written = fs.readFileSync(readmeFile, "utf8");
      assert.deepEqual(tableKeys(written), schemaKeys);
      assert.ok(written.startsWith(`intro\n${docsGenerator.START_MARKER}\n| key |`));
      assert.ok(written.endsWith(`${docsGenerator.END_MARKER}\noutro\n`));
      fs.writeFileSync(readmeFile, "no markers here\n");
      assert.equal(run("--check").status, 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the schema itself", () => {
  test("every default passes its own key's validation", () => {
    for (const spec of configSpecs()) {
      const result = checkCodeValue(spec, spec.default);
      assert.ok(result.ok, `${spec.key}: default ${JSON.stringify(spec.default)} is invalid`);
      assert.deepEqual(result.value, spec.default, spec.key);
    }
  });

  test("every example passes its own key's validation", () => {
    for (const spec of configSpecs()) {
      for (const example of spec.examples) {
        assert.ok(checkCodeValue(spec, example).ok, `${spec.key}: example ${JSON.stringify(example)} is invalid`);
      }
    }
  });

  test("it is a JupyterLab settings schema: an object without extra properties, each key titled and described", () => {
    const root = schema as Record<string, unknown>;
    assert.equal(root["type"], "object");
    assert.equal(root["additionalProperties"], false);
    for (const [key, node] of Object.entries(root["properties"] as Record<string, Record<string, unknown>>)) {
      assert.match(key, /^[a-z][a-z0-9_]*$/, `${key} is snake_case`);
      assert.equal(typeof node["title"], "string", `${key} has a title`);
      assert.equal(typeof node["description"], "string", `${key} has a description`);
    }
  });

  test("the three tokens are secret and the deprecated keys say what to use instead", () => {
    const secret = configSpecs()
      .filter((spec) => spec.secret)
      .map((spec) => spec.key);
    assert.deepEqual(secret, ["api_key", "electricitymaps_api_token", "co2_signal_api_token"]);
    const deprecated = configSpecs()
      .filter((spec) => spec.deprecated !== undefined)
      .map((spec) => spec.key);
    assert.deepEqual(deprecated, [
      "save_to_file",
      "save_to_api",
      "save_to_logger",
      "save_to_prometheus",
      "co2_signal_api_token",
    ]);
  });

  test("a keyword the loader does not enforce is refused, and jupyter.lab annotations are allowed", () => {
    const withKeyword = (extra: Record<string, unknown>) => {
      const copy = structuredClone(schema) as { properties: Record<string, Record<string, unknown>> };
      Object.assign(copy.properties["pue"] ?? {}, extra);
      return copy;
    };
    assert.throws(
      () => readSpecs(withKeyword({ multipleOf: 3 })),
      /property "pue": keyword "multipleOf" is not enforced/,
    );
    assert.doesNotThrow(() => readSpecs(withKeyword({ "jupyter.lab.setting-deprecated": true })));
  });

  test("a schema whose keys differ from the generated types is refused", () => {
    const copy = structuredClone(schema) as { properties: Record<string, unknown> };
    copy.properties["new_key"] = { type: "string", default: "", title: "t", description: "d" };
    assert.throws(() => readSpecs(copy), /keys differ from src\/config\/options\.generated\.ts/);
  });
});
