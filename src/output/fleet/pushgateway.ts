/**
 * CodeCarbon's Prometheus route, kept for compatibility: the run's metrics are pushed to a
 * Pushgateway every `api_call_interval` measurements and at flush/stop, and the group is
 * deleted when the tracker stops (unless prometheus_delete_on_exit is false). Each push
 * replaces the group with the run's totals, so a push skipped during an outage loses nothing:
 * the next one carries everything.
 */
import { timeoutMsFromSeconds } from "../../units";
import * as os from "node:os";
import type { TrackerSettings } from "../../config/options.generated";
import { log } from "../../log";
import { RetryGate } from "../../net/backoff";
import { httpRequest, redactUrl } from "../../net/http";
import type { EmissionsData } from "../emissions-data";
import type { OutputSink } from "../sink";
import { codecarbonCompatMetrics, EXPOSITION_CONTENT_TYPE, fleetMetrics, renderExposition } from "./metrics";

export type PushgatewaySettings = Pick<
  TrackerSettings,
  "prometheusUrl" | "prometheusDeleteOnExit" | "projectName" | "experimentName" | "apiTimeoutSecs"
>;

/** CodeCarbon's job name: project and experiment, with anything outside [a-zA-Z0-9_-] made `_`. */
export function pushgatewayJob(projectName: string, experimentName: string): string {
  return `${projectName}_${experimentName}`.replace(/[^a-zA-Z0-9_-]/g, "_");
}

/** CodeCarbon's default "localhost:9091" has no scheme: http:// is assumed, as prometheus_client does. */
export function pushgatewayBaseUrl(prometheusUrl: string): string {
  const trimmed = prometheusUrl.trim().replace(/\/+$/, "");
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
}

const segment = (value: string): string =>
  // The Pushgateway's grouping-key syntax: a value with a slash (or an empty one) goes base64url.
  value === "" || value.includes("/")
    ? `@base64/${Buffer.from(value).toString("base64url") || "="}`
    : encodeURIComponent(value);

/**
 * The run's group: job (CodeCarbon's name), instance (the host) and run_id, so runs and hosts never overwrite each
 * other.
 */
export function pushgatewayGroupUrl(settings: PushgatewaySettings, runId: string, host = os.hostname()): string {
  const job = pushgatewayJob(settings.projectName, settings.experimentName);
  return `${pushgatewayBaseUrl(settings.prometheusUrl)}/metrics/job/${segment(job)}/instance/${segment(host)}/run_id/${segment(runId)}`;
}

function basicAuth(env: NodeJS.ProcessEnv): Record<string, string> {
  const user = env["PROMETHEUS_USERNAME"];
  const password = env["PROMETHEUS_PASSWORD"];
  if (!user && !password) return {};
  return { authorization: `Basic ${Buffer.from(`${user ?? ""}:${password ?? ""}`).toString("base64")}` };
}

export interface PushgatewayContext {
  runId: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export function createPushgatewaySink(settings: PushgatewaySettings, context: PushgatewayContext): OutputSink {
  const env = context.env ?? process.env;
  const now = context.now ?? Date.now;
  const url = pushgatewayGroupUrl(settings, context.runId);
  const shown = redactUrl(url);
  const headers = basicAuth(env);
  const timeoutMs = timeoutMsFromSeconds(settings.apiTimeoutSecs);
  const gate = new RetryGate(now);
  let pushed = false;

  const send = async (method: "PUT" | "DELETE", body?: string): Promise<void> => {
    const response = await httpRequest(
      {
        method,
        url,
        headers: { ...headers, ...(body === undefined ? {} : { "content-type": EXPOSITION_CONTENT_TYPE }) },
        ...(body === undefined ? {} : { body }),
        timeoutMs,
      },
      { env },
    );
    if (response.status < 200 || response.status >= 300) {
      const hint =
        response.status === 401 || response.status === 403 ? " (set PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD)" : "";
      throw new Error(
        `HTTP ${response.status}${hint}${response.text ? `: ${response.text.trim().slice(0, 200)}` : ""}`,
      );
    }
  };

  const push = async (total: EmissionsData, delta: EmissionsData, force: boolean): Promise<void> => {
    if (!gate.allows(force)) return;
    const body = renderExposition([...fleetMetrics(total, null), ...codecarbonCompatMetrics(delta, total)]);
    try {
      await send("PUT", body);
      pushed = true;
      if (gate.succeeded()) log.info(`The Pushgateway at ${shown} answers again; the run's totals are pushed.`);
    } catch (error) {
      gate.failed();
      log.once(
        "warning",
        `pushgateway:${settings.prometheusUrl}`,
        `Could not push to the Pushgateway at ${shown} (${error instanceof Error ? error.message : String(error)}); retrying with backoff. Nothing is lost: each push carries the run's totals.`,
      );
    }
  };

  return {
    name: "prometheus pushgateway",
    liveOut: (total, delta) => push(total, delta, false),
    out: (total, delta) => push(total, delta, true),
    exit: async () => {
      if (!settings.prometheusDeleteOnExit || !pushed) return;
      try {
        await send("DELETE");
      } catch (error) {
        log.warning(
          `Could not delete the run's group from the Pushgateway at ${shown} (${error instanceof Error ? error.message : String(error)}); delete it by hand if it should not linger.`,
        );
      }
    },
  };
}
