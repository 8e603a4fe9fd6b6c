/**
 * `codecarbon init` against the loopback fake of the Code Carbon API (test/helpers/fake-codecarbon-api),
 * which answers POST /experiments with 201 and the experiment, or 403 without the project token.
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { startFakeCodeCarbonApi, type FakeCodeCarbonApi } from "../helpers/fake-codecarbon-api";
import { makeSandbox, type Sandbox } from "../helpers/sandbox";
import { runCli } from "./cli-run";

const DEFAULT_PROJECT = "e60afa92-17b7-4720-91a0-1ae91e409ba1";
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

let sandbox: Sandbox;
let api: FakeCodeCarbonApi;
let apiEnv: NodeJS.ProcessEnv;

before(async () => {
  sandbox = makeSandbox();
  api = await startFakeCodeCarbonApi();
  apiEnv = { CODECARBON_API_ENDPOINT: api.url, CODECARBON_API_KEY: api.token ?? "" };
});

after(async () => {
  await api.close();
  sandbox.cleanup();
});

beforeEach(() => {
  api.all.length = 0;
  api.accepted.length = 0;
  fs.rmSync(path.join(sandbox.cwd, ".codecarbon.config"), { force: true });
});

function experimentBodies(): Array<Record<string, unknown>> {
  return api.accepted
    .filter((r) => r.method === "POST" && r.path === "/experiments")
    .map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

const localConfig = () => path.join(sandbox.cwd, ".codecarbon.config");

describe("codecarbon init", () => {
  test("creates an experiment in the default project and writes a new ./.codecarbon.config", async () => {
    const result = await runCli(["init", "--name", "my run"], sandbox, apiEnv);
    assert.equal(result.code, 0, result.stderr);
    const bodies = experimentBodies();
    assert.equal(bodies.length, 1);
    const body = bodies[0]!;
    assert.equal(body["project_id"], DEFAULT_PROJECT);
    assert.equal(body["name"], "my run");
    assert.equal(body["on_cloud"], false);
    assert.equal(typeof body["timestamp"], "string");
    const written = fs.readFileSync(localConfig(), "utf8");
    const id = new RegExp(`^\\[codecarbon\\]\\nexperiment_id = (${UUID})\\n$`).exec(written)?.[1];
    assert.ok(id !== undefined, written);
    assert.ok(result.stdout.includes(id));
    assert.ok(
      !result.stdout.includes("test-token") && !result.stderr.includes("test-token"),
      "the token is never printed",
    );
  });

  test("updates an existing file: only the experiment_id line changes; project_id comes from the config", async () => {
    const before = [
      "# team settings — keep this comment",
      "[codecarbon]",
      "project_id = 11111111-2222-4333-8444-555555555555",
      "experiment_id=old-experiment",
      "; output",
      "output_dir = ./emissions",
      "",
      "[unrelated]",
      "experiment_id = not-this-one",
      "",
    ].join("\n");
    fs.writeFileSync(localConfig(), before);
    const result = await runCli(["init"], sandbox, apiEnv);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(experimentBodies()[0]?.["project_id"], "11111111-2222-4333-8444-555555555555");
    const after = fs.readFileSync(localConfig(), "utf8");
    const id = new RegExp(`^experiment_id=(${UUID})$`, "m").exec(after)?.[1];
    assert.ok(id !== undefined, after);
    assert.equal(after, before.replace("experiment_id=old-experiment", `experiment_id=${id}`));

    // The new id is what the configuration now resolves to.
    const shown = await runCli(["config", "--show-origin"], sandbox);
    assert.ok(shown.stdout.includes(`file:${localConfig()}:4\texperiment_id=${id}`), shown.stdout);
  });

  test("--project-id wins, and a file without the key gets it added below the others", async () => {
    fs.writeFileSync(localConfig(), "[codecarbon]\nlog_level = warning\n");
    const result = await runCli(["init", "--project-id", "99999999-8888-4777-8666-555555555555"], sandbox, apiEnv);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(experimentBodies()[0]?.["project_id"], "99999999-8888-4777-8666-555555555555");
    assert.match(
      fs.readFileSync(localConfig(), "utf8"),
      /^\[codecarbon\]\nlog_level = warning\nexperiment_id = [0-9a-f-]{36}\n$/,
    );
  });

  test("403: says a project token is needed and how to set it, exit 1, file untouched", async () => {
    fs.writeFileSync(localConfig(), "[codecarbon]\n# mine\n");
    // No api_key: the fake, like the real server, answers 403.
    const result = await runCli(["init"], sandbox, { CODECARBON_API_ENDPOINT: api.url });
    assert.equal(api.all.length, 1);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^codecarbon: .*HTTP 403.*project token.*api_key.*CODECARBON_API_KEY/m);
    assert.match(result.stderr, /codecarbon login/);
    assert.equal(fs.readFileSync(localConfig(), "utf8"), "[codecarbon]\n# mine\n");
  });

  test("an unreachable API: names the endpoint without its credentials, exit 1, no file", async () => {
    const closed = "http://user:secret@127.0.0.1:9";
    const result = await runCli(["init"], sandbox, { CODECARBON_API_ENDPOINT: closed });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^codecarbon: could not reach the Code Carbon API at http:\/\/\*\*\*@127\.0\.0\.1:9/m);
    assert.ok(!result.stderr.includes("secret"));
    assert.equal(fs.existsSync(localConfig()), false);
  });
});
