import { options } from "preact";

// Diagnostics the browser tests and the performance run read back: uncaught errors and
// console.error calls (window.__pulseErrors), and timings of state application
// (window.__pulsePerf). Recording is a few array pushes; nothing is sent anywhere.

const errors = [];
const perf = { initial: [], deltas: [] };
window.__pulseErrors = errors;
window.__pulsePerf = perf;

const originalError = console.error.bind(console);
console.error = (...args) => {
  errors.push(args.map((a) => (a instanceof Error ? a.stack || a.message : String(a))).join(" "));
  originalError(...args);
};
window.addEventListener("error", (ev) => errors.push(`uncaught: ${ev.message} at ${ev.filename}:${ev.lineno}`));
window.addEventListener("unhandledrejection", (ev) => errors.push(`unhandled rejection: ${ev.reason}`));

/**
 * Times one state frame from `start` (when its message arrived, before parsing): `applied()` after
 * the store took it, `end()` once the resulting render is committed; `paintMs` follows after the
 * next frame has been drawn.
 */
export function frameTimer(kind, size, start) {
  let applied = start;
  return {
    applied() { applied = performance.now(); },
    end() {
      // The performance run sets forceLayout so that style and layout are inside the measure.
      if (perf.forceLayout) void document.body.offsetHeight;
      const entry = { size, applyMs: applied - start, totalMs: performance.now() - start, paintMs: null };
      requestAnimationFrame(() => setTimeout(() => { entry.paintMs = performance.now() - start; }, 0));
      const list = kind === "initial" ? perf.initial : perf.deltas;
      list.push(entry);
      if (list.length > 200) list.shift();
    },
  };
}

/** Runs `fn` once the render that the current task scheduled has been committed to the DOM. */
let pending = [];
export function afterCommit(fn) {
  pending.push(fn);
  Promise.resolve().then(() => queueMicrotask(flushIfIdle));
}

function flushIfIdle() {
  if (rendering) return;
  const run = pending;
  pending = [];
  for (const fn of run) fn();
}

// Preact batches renders through options.debounceRendering (public API): run the batch in a
// microtask, then whatever waits for it to be on screen.
let rendering = false;
options.debounceRendering = (process) => queueMicrotask(() => {
  rendering = true;
  try { process(); } finally { rendering = false; }
  flushIfIdle();
});
