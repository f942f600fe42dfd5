// The resource detail drawer: what a resource is, where it lives, its current metrics, history
// charts (1 h / 24 h / 7 d from the metrics history API), its alerts, children and the raw facts
// each source reports.

import { html, useEffect, useMemo, useRef, useState } from "../html.js";
import { store, useStore } from "../store.js";
import { derive, SOURCE_LABEL } from "../catalog.js";
import { get } from "../api.js";
import { guarded, isUnavailable } from "../features.js";
import { showResource } from "../router.js";
import { Status, Sources, Tag, Meter } from "./badges.js";
import { Chart } from "./chart.js";
import { Unavailable, ErrorText } from "./notice.js";
import { ago, bytes, duration, num, rate, when, words } from "../format.js";

const RANGES = [["1h", "1 hour"], ["24h", "24 hours"], ["7d", "7 days"]];

const CHARTS = [
  { title: "CPU, memory and disk", unit: "percent", metrics: [["cpu", "CPU", "--c1"], ["memory", "Memory", "--c2"], ["disk", "Disk", "--c3"]] },
  { title: "Network", unit: "rate", metrics: [["netIn", "In", "--c1"], ["netOut", "Out", "--c4"]] },
  { title: "Disk I/O", unit: "rate", metrics: [["diskRead", "Read", "--c2"], ["diskWrite", "Write", "--c3"]] },
];

/** Aligns several [{timestamp(ms), value}] series on one time axis (seconds). */
export function align(seriesList) {
  const times = new Set();
  for (const s of seriesList) for (const p of s) times.add(p.timestamp);
  const xs = [...times].sort((a, b) => a - b);
  const at = new Map(xs.map((t, i) => [t, i]));
  const ys = seriesList.map((s) => {
    const out = new Array(xs.length).fill(null);
    for (const p of s) out[at.get(p.timestamp)] = typeof p.value === "number" ? p.value : null;
    return out;
  });
  return [xs.map((t) => t / 1000), ...ys];
}

function History({ r }) {
  const [range, setRange] = useState("1h");
  const [state, setState] = useState({ status: "loading", charts: [] });
  const wanted = useMemo(() => CHARTS.map((c) => ({
    ...c,
    metrics: c.metrics.filter(([m]) => r.metrics && r.metrics[m]).map(([m, label, color]) => ({
      metric: r.type === "storage" && m === "disk" ? "usage" : m, label, color,
    })),
  })).filter((c) => c.metrics.length > 0), [r.id, Object.keys(r.metrics || {}).join()]);

  useEffect(() => {
    if (isUnavailable("history") || wanted.length === 0) return undefined;
    let live = true;
    setState((s) => ({ ...s, status: "loading" }));
    const q = (metric) => guarded("history", () => get(`/api/metrics-store/history?resourceId=${encodeURIComponent(r.id)}&metric=${metric}&range=${range}&maxPoints=120`));
    Promise.all(wanted.map((c) => Promise.all(c.metrics.map((m) => q(m.metric))))).then(
      (results) => live && setState({
        status: "ready",
        charts: wanted.map((c, i) => ({
          ...c,
          data: align(results[i].map((res) => (res && res.points) || [])),
          series: c.metrics.map((m) => ({ label: m.label, color: m.color })),
        })),
      }),
      (error) => live && setState({ status: isUnavailable("history") ? "unavailable" : "error", error, charts: [] }),
    );
    return () => { live = false; };
  }, [r.id, range, wanted]);

  if (wanted.length === 0) return null;
  if (isUnavailable("history") || state.status === "unavailable") return html`<section><h3>History</h3><${Unavailable} what="Metrics history" /></section>`;
  return html`<section>
    <div class="section-head">
      <h3>History</h3>
      <div class="seg" role="group" aria-label="Time range">
        ${RANGES.map(([v, label]) => html`<button type="button" class=${range === v ? "on" : ""} aria-pressed=${range === v ? "true" : "false"}
          aria-label=${label} onClick=${() => setRange(v)}>${v}</button>`)}
      </div>
    </div>
    ${state.status === "error" ? html`<${ErrorText} error=${state.error} />` : null}
    ${state.status === "loading" && state.charts.length === 0 ? html`<p class="muted">Loading history…</p>` : null}
    ${state.charts.map((c) => (c.data[0].length === 0
      ? html`<p class="muted">${c.title}: no history recorded in this range yet.</p>`
      : html`<${Chart} title=${c.title} data=${c.data} series=${c.series} unit=${c.unit} />`))}
  </section>`;
}

function Facts({ r }) {
  const d = derive(r);
  const id = r.identity || {};
  const parent = r.parentId ? store.resources.get(r.parentId) : null;
  const rows = [
    ["Type", d.kind],
    ["Sources", html`<${Sources} r=${r} />`],
    parent ? ["Runs on", html`<button type="button" class="btn link" onClick=${() => showResource(parent.id)}>${parent.name}</button>`] : null,
    typeof r.uptime === "number" ? ["Uptime", duration(r.uptime)] : null,
    ["Last seen", html`<span title=${when(r.lastSeen)}>${ago(r.lastSeen)}</span>`],
    id.hostnames && id.hostnames.length ? ["Hostnames", id.hostnames.join(", ")] : null,
    id.ipAddresses && id.ipAddresses.length ? ["IP addresses", id.ipAddresses.join(", ")] : null,
    id.clusterName ? ["Cluster", id.clusterName] : null,
    typeof r.temperature === "number" ? ["Temperature", `${num(r.temperature)} °C`] : null,
    r.tags && r.tags.length ? ["Tags", html`<span class="tags">${r.tags.map((t) => html`<${Tag} tag=${t} />`)}</span>`] : null,
    ["ID", html`<code>${r.id}</code>`],
  ].filter(Boolean);
  return html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

function Usage({ r }) {
  const m = r.metrics || {};
  const d = derive(r);
  const sized = (x) => (x && typeof x.used === "number" && typeof x.total === "number" ? `${bytes(x.used)} of ${bytes(x.total)}` : "");
  const items = [
    d.cpu !== null ? ["CPU", html`<${Meter} value=${d.cpu} label="CPU" />`, ""] : null,
    d.memory !== null ? ["Memory", html`<${Meter} value=${d.memory} label="Memory" />`, sized(m.memory)] : null,
    d.disk !== null ? ["Disk", html`<${Meter} value=${d.disk} label="Disk" />`, sized(m.disk)] : null,
    m.netIn || m.netOut ? ["Network", `↓ ${rate(m.netIn && m.netIn.value)}  ↑ ${rate(m.netOut && m.netOut.value)}`, ""] : null,
    m.diskRead || m.diskWrite ? ["Disk I/O", `read ${rate(m.diskRead && m.diskRead.value)}, write ${rate(m.diskWrite && m.diskWrite.value)}`, ""] : null,
  ].filter(Boolean);
  if (items.length === 0) return null;
  return html`<section><h3>Now</h3><dl class="usage">${items.map(([k, v, sub]) => html`<dt>${k}</dt><dd>${v}${sub ? html`<small class="muted">${sub}</small>` : null}</dd>`)}</dl></section>`;
}

const scalar = (v) => v === null || ["string", "number", "boolean"].includes(typeof v);
function show(v) {
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") return num(v);
  return String(v);
}

function FacetDetails({ r }) {
  const facets = Object.keys(r).filter((k) => ["proxmox", "pbs", "pmg", "truenas", "docker", "kubernetes", "agent", "storage", "physicalDisk"].includes(k));
  if (facets.length === 0) return null;
  return html`<section><h3>Details</h3>${facets.map((f) => {
    const obj = r[f] || {};
    const flat = Object.entries(obj).filter(([, v]) => scalar(v) || (Array.isArray(v) && v.every(scalar)));
    const nested = Object.entries(obj).filter(([, v]) => !(scalar(v) || (Array.isArray(v) && v.every(scalar))));
    return html`<details open=${facets.length === 1}>
      <summary>${SOURCE_LABEL[f] || words(f)}</summary>
      <dl class="facts">${flat.map(([k, v]) => html`<dt>${words(k)}</dt><dd>${Array.isArray(v) ? v.map(show).join(", ") || "—" : show(v)}</dd>`)}</dl>
      ${nested.map(([k, v]) => html`<details class="nested"><summary>${words(k)}</summary><pre>${JSON.stringify(v, null, 2)}</pre></details>`)}
    </details>`;
  })}</section>`;
}

function Children({ r }) {
  const kids = store.childrenOf(r.id).sort((a, b) => derive(a).nameKey.localeCompare(derive(b).nameKey));
  if (kids.length === 0) return null;
  const shown = kids.slice(0, 50);
  return html`<section><h3>Runs here <span class="count">${kids.length}</span></h3>
    <ul class="children">${shown.map((k) => html`<li><${Status} status=${k.status} compact />
      <button type="button" class="btn link" onClick=${() => showResource(k.id)}>${k.name}</button>
      <span class="muted">${derive(k).kind}</span></li>`)}</ul>
    ${kids.length > shown.length ? html`<p class="muted">and ${kids.length - shown.length} more</p>` : null}
  </section>`;
}

function ResourceAlerts({ r }) {
  const alerts = [...store.alerts.values()].filter((a) => a.resourceId === r.id);
  if (alerts.length === 0) return null;
  return html`<section><h3>Active alerts</h3><ul class="alert-list">${alerts.map((a) => html`<li class=${`lvl-${a.level}`}>
    <strong>${a.level}</strong> ${a.message}</li>`)}</ul></section>`;
}

/** The drawer for resource `id` (closed with the button or Escape). */
export function Drawer({ id }) {
  useStore("resources", "alerts");
  const panel = useRef(null);
  const r = store.resources.get(id);
  useEffect(() => { if (panel.current) panel.current.focus(); }, [id]);
  return html`<aside class="drawer" role="dialog" aria-modal="false" aria-labelledby="drawer-title" tabindex="-1" ref=${panel}>
    <header class="drawer-head">
      ${r ? html`<${Status} status=${r.status} />` : null}
      <h2 id="drawer-title">${r ? r.name : "Resource"}</h2>
      <button type="button" class="btn icon" aria-label="Close details" onClick=${() => showResource(null)}>✕</button>
    </header>
    ${r ? html`<div class="drawer-body">
      <${Facts} r=${r} />
      <${ResourceAlerts} r=${r} />
      <${Usage} r=${r} />
      <${History} r=${r} />
      <${Children} r=${r} />
      <${FacetDetails} r=${r} />
    </div>` : html`<div class="drawer-body"><p class="muted">This resource is no longer reported.</p></div>`}
  </aside>`;
}
