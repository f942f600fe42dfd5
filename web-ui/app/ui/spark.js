// A sparkline: one SVG polyline of a series of numbers (nulls are gaps), scaled 0–100 for percent
// series or to the series' own maximum otherwise.

import { html } from "../html.js";

const W = 64;
const H = 20;

export function Spark({ values, max, label }) {
  if (!values || values.length < 2) return null;
  let top = max;
  if (!top) {
    top = 0;
    for (const v of values) if (typeof v === "number" && v > top) top = v;
  }
  if (!top) top = 1;
  const step = W / (values.length - 1);
  const parts = [];
  let current = "";
  values.forEach((v, i) => {
    if (typeof v !== "number") {
      if (current) parts.push(current);
      current = "";
      return;
    }
    const y = H - 1 - (Math.min(v, top) / top) * (H - 2);
    current += `${(i * step).toFixed(1)},${y.toFixed(1)} `;
  });
  if (current) parts.push(current);
  return html`<svg class="spark" width=${W} height=${H} viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${label || "trend"}>
    ${parts.map((p) => html`<polyline points=${p} />`)}
  </svg>`;
}
