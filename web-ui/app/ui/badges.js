// Small presentational pieces: status pills, source badges, tags and usage meters.

import { html } from "../html.js";
import { SOURCE_LABEL, STATUSES } from "../catalog.js";
import { percent } from "../format.js";

const STATUS_WORD = Object.fromEntries(STATUSES);

/** A status pill: coloured dot plus the word (colour is never the only signal). */
export function Status({ status, compact }) {
  const word = STATUS_WORD[status] || status || "Unknown";
  return html`<span class=${`status status-${status || "unknown"}${compact ? " compact" : ""}`} title=${word}>
    <span class="dot" aria-hidden="true"></span><span class=${compact ? "sr-only" : ""}>${word}</span>
  </span>`;
}

/** A source badge ("PVE", "TrueNAS", …), optionally with a per-source state. */
export function Source({ source, state }) {
  const stale = state && state !== "online";
  return html`<span class=${`src src-${source}${stale ? " src-stale" : ""}`}
    title=${stale ? `${SOURCE_LABEL[source] || source}: ${state}` : SOURCE_LABEL[source] || source}>${SOURCE_LABEL[source] || source}</span>`;
}

/** All source badges of a resource. */
export function Sources({ r }) {
  const states = r.sourceStatus || {};
  return html`<span class="srcs">${(r.sources || []).map((s) => html`<${Source} key=${s} source=${s} state=${states[s] && states[s].status} />`)}</span>`;
}

/** A tag chip. */
export const Tag = ({ tag }) => html`<span class="tag">${tag}</span>`;

/** A usage meter: bar plus number; amber from 80 %, red from 90 %. */
export function Meter({ value, label }) {
  if (typeof value !== "number") return html`<span class="muted">—</span>`;
  const v = Math.max(0, Math.min(100, value));
  const level = v >= 90 ? "bad" : v >= 80 ? "warn" : "ok";
  return html`<span class="meter" title=${label ? `${label}: ${percent(value)}` : percent(value)}>
    <span class="meter-track" aria-hidden="true"><span class=${`meter-fill ${level}`} style=${{ width: `${v}%` }}></span></span>
    <span class="meter-num">${percent(value)}</span>
  </span>`;
}
