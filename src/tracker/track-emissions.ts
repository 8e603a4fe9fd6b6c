/**
 * `trackEmissions`: a wrapper for functions and a TypeScript 5 method decorator. Each call of the
 * wrapped function is one run: a tracker is started before it and stopped after it, also when it
 * throws, and the function's own result is returned unchanged.
 */
import type { TrackerOptions } from "../config/options.generated";
import { EmissionsTracker, OfflineEmissionsTracker } from "./emissions-tracker";

export interface TrackEmissionsOptions extends TrackerOptions {
  /** Use the OfflineEmissionsTracker (needs `countryIsoCode`, or a cloud provider and region). */
  offline?: boolean | undefined;
}

type Method<This, Args extends unknown[], R> = (this: This, ...args: Args) => R;
type MethodDecorator = <This, Args extends unknown[], R>(
  method: Method<This, Args, R>,
  context: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
) => Method<This, Args, R>;

/** `@trackEmissions` on a method: tracks each call with the default options. */
export function trackEmissions<This, Args extends unknown[], R>(
  method: Method<This, Args, R>,
  context: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
): Method<This, Args, R>;
/** `trackEmissions(fn, options)`: returns `fn` wrapped; each call is one tracked run. */
export function trackEmissions<F extends (...args: never[]) => unknown>(fn: F, options?: TrackEmissionsOptions): F;
/** `@trackEmissions({ ... })` on a method. */
export function trackEmissions(options?: TrackEmissionsOptions): MethodDecorator;
export function trackEmissions(first?: unknown, second?: unknown): unknown {
  if (typeof first === "function") {
    if (isMethodContext(second)) return wrap(first as (...args: unknown[]) => unknown, {});
    return wrap(first as (...args: unknown[]) => unknown, (second ?? {}) as TrackEmissionsOptions);
  }
  const options = (first ?? {}) as TrackEmissionsOptions;
  return (method: unknown, context: unknown) => {
    if (typeof method !== "function" || !isMethodContext(context)) {
      throw new TypeError(
        "@trackEmissions(...) decorates class methods; use trackEmissions(fn, options) for plain functions.",
      );
    }
    return wrap(method as (...args: unknown[]) => unknown, options);
  };
}

function isMethodContext(value: unknown): value is ClassMethodDecoratorContext {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "method";
}

function createTracker(options: TrackEmissionsOptions): EmissionsTracker {
  const { offline, ...trackerOptions } = options;
  return offline ? new OfflineEmissionsTracker(trackerOptions) : new EmissionsTracker(trackerOptions);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

function wrap(fn: (...args: unknown[]) => unknown, options: TrackEmissionsOptions): (...args: unknown[]) => unknown {
  // Construct one now so a bad option or a missing country fails where the function is wrapped
  // (or the class is defined), not at its first call.
  createTracker(options);
  const tracked = function (this: unknown, ...args: unknown[]): unknown {
    const tracker = createTracker(options).start();
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (error) {
      void tracker.stop();
      throw error;
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        async (value) => {
          await tracker.stop();
          return value;
        },
        async (error: unknown) => {
          await tracker.stop();
          throw error;
        },
      );
    }
    // A synchronous function keeps its synchronous result; its row is written right after it
    // returns, and the process stays alive until that write is done.
    void tracker.stop();
    return result;
  };
  Object.defineProperty(tracked, "name", { value: fn.name, configurable: true });
  return tracked;
}
