// Number, size, rate, duration and time formatting for display.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 → "1.5 KiB". */
export function bytes(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "—";
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i += 1; }
  return `${n < 0 ? "-" : ""}${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[i]}`;
}

/** Bytes per second → "1.5 MiB/s". */
export const rate = (n) => (typeof n === "number" ? `${bytes(n)}/s` : "—");

/** 42.123 → "42%"; below 10 one decimal. */
export function percent(p) {
  if (typeof p !== "number" || !Number.isFinite(p)) return "—";
  return p < 10 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** Seconds → "3d 4h", "5h 2m", "12m", "40s". */
export function duration(s) {
  if (typeof s !== "number" || !Number.isFinite(s) || s < 0) return "—";
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${Math.floor(s)}s`;
}

/** A time (ms or ISO string) as "12 s ago", "5 min ago", or a date. */
export function ago(t, now = Date.now()) {
  const ms = typeof t === "string" ? Date.parse(t) : t;
  if (!ms || !Number.isFinite(ms)) return "—";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

/** A time (ms or ISO string) as a local date and time. */
export function when(t) {
  const ms = typeof t === "string" ? Date.parse(t) : t;
  if (!ms || !Number.isFinite(ms)) return "—";
  return new Date(ms).toLocaleString();
}

/** A number with at most two decimals. */
export function num(v) {
  if (typeof v !== "number" || !Number.isFinite(v)) return "—";
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Math.round(v * 100) / 100);
}

/** A camelCase key as words: "maxMemory" → "Max memory". */
export function words(key) {
  const s = String(key).replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ").toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}
