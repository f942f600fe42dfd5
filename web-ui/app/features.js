// Optional server features. Some areas (charts, history, alerts, notifications, endpoints) may be
// missing from a build; the first request that finds a route missing marks its feature
// unavailable, and nothing asks again, so the console is not flooded with 404s.

import { get, ApiError } from "./api.js";
import { useEffect, useState, useCallback } from "./html.js";

const unavailable = new Set();
const listeners = new Set();

/** Records that `feature` is not in this build. */
export function markUnavailable(feature) {
  if (unavailable.has(feature)) return;
  unavailable.add(feature);
  listeners.forEach((fn) => fn());
}

export const isUnavailable = (feature) => unavailable.has(feature);

/**
 * Calls `fn` for `feature`: a missing route marks the feature unavailable and rejects with the
 * ApiError; after that, calls reject at once without a request.
 */
export async function guarded(feature, fn) {
  if (unavailable.has(feature)) throw new ApiError(404, "not_found", "route (feature unavailable)");
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError && e.missingRoute) markUnavailable(feature);
    throw e;
  }
}

/**
 * Loads `path` for `feature`. Returns `{state, data, error, reload}` where state is
 * "loading" | "ready" | "unavailable" | "error".
 */
export function useFeatureData(feature, path) {
  const [result, setResult] = useState({ state: "loading", data: null, error: null });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    if (!path) return undefined;
    guarded(feature, () => get(path)).then(
      (data) => live && setResult({ state: "ready", data, error: null }),
      (error) => live && setResult({
        state: unavailable.has(feature) ? "unavailable" : "error", data: null, error,
      }),
    );
    return () => { live = false; };
  }, [feature, path, tick]);
  return { ...result, reload };
}

/** Re-renders the caller when any feature's availability changes. */
export function useFeatureAvailability() {
  const [, set] = useState(0);
  useEffect(() => {
    const fn = () => set((n) => n + 1);
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return isUnavailable;
}
