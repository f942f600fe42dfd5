// The three resource pages (Infrastructure, Workloads, Storage): a summary, the filter bar and a
// virtualised table of the page's resources, live from the store, with trend sparklines from
// /api/charts (one request for every resource, refreshed each minute).

import { html, useEffect, useMemo, useRef, useState } from "../html.js";
import { store, useStore } from "../store.js";
import { PAGES, noFilters, healthLabels } from "../catalog.js";
import { updateView } from "../view.js";
import { get } from "../api.js";
import { guarded, isUnavailable, useFeatureAvailability } from "../features.js";
import { showResource } from "../router.js";
import { VirtualTable } from "../ui/table.js";
import { FilterBar } from "../ui/filters.js";
import { Status, Sources, Meter } from "../ui/badges.js";
import { Spark } from "../ui/spark.js";
import { bytes, duration, rate } from "../format.js";

// ---- sparklines -------------------------------------------------------------------------------

const CHART_REFRESH_MS = 60000;
let charts = null;
const chartListeners = new Set();
let chartTimer = 0;

async function refreshCharts() {
  if (isUnavailable("charts")) return;
  try {
    charts = await guarded("charts", () => get("/api/charts?range=1h"));
    chartListeners.forEach((fn) => fn());
  } catch {
    // Unavailable (remembered by guarded) or a transient failure: the next refresh tries again.
  }
}

/** The latest /api/charts reply ({resources: {id: {cpu: [...], …}}}) or null. */
function useCharts() {
  const [, set] = useState(0);
  useEffect(() => {
    const fn = () => set((n) => n + 1);
    chartListeners.add(fn);
    if (chartListeners.size === 1) {
      if (!charts) refreshCharts();
      chartTimer = setInterval(refreshCharts, CHART_REFRESH_MS);
    }
    return () => {
      chartListeners.delete(fn);
      if (chartListeners.size === 0) clearInterval(chartTimer);
    };
  }, []);
  return charts;
}

// ---- columns ----------------------------------------------------------------------------------

const parentName = (r) => {
  const p = r.parentId && store.resources.get(r.parentId);
  return p ? p.name : "";
};

function NameCell(r, d, sub) {
  return html`<span class="name-cell"><${Status} status=${r.status} compact />
    <span class="name-text"><span class="name">${r.name}</span><small class="muted">${sub}</small></span></span>`;
}

const series = (ctx, r, metric) => {
  const c = ctx.charts && ctx.charts.resources && ctx.charts.resources[r.id];
  return c ? c[metric] : null;
};

const COL = {
  name: (sub) => ({ label: "Name", sort: "name", width: "minmax(180px, 2.2fr)", cell: (r, d) => NameCell(r, d, sub(r, d)) }),
  status: { label: "Status", sort: "status", width: "110px", priority: 2, cell: (r) => html`<${Status} status=${r.status} />` },
  kind: { label: "Type", sort: "kind", width: "minmax(100px, 0.9fr)", priority: 2, cell: (r, d) => d.kind },
  sources: { label: "Sources", width: "minmax(120px, 1fr)", priority: 3, cell: (r) => html`<${Sources} r=${r} />` },
  cpu: {
    label: "CPU", sort: "cpu", width: "minmax(150px, 1.3fr)",
    cell: (r, d, ctx) => html`<span class="metric-cell"><${Meter} value=${d.cpu} label="CPU" />${ctx.charts ? html`<${Spark} values=${series(ctx, r, "cpu")} max=${100} label="CPU, last hour" />` : null}</span>`,
  },
  memory: { label: "Memory", sort: "memory", width: "minmax(110px, 1fr)", cell: (r, d) => html`<${Meter} value=${d.memory} label="Memory" />` },
  disk: { label: "Disk", sort: "disk", width: "minmax(110px, 1fr)", priority: 2, cell: (r, d) => html`<${Meter} value=${d.disk} label="Disk" />` },
  net: {
    label: "Network", sort: "net", width: "minmax(110px, 1fr)", priority: 3, className: "num",
    cell: (r) => {
      const m = r.metrics || {};
      if (!m.netIn && !m.netOut) return html`<span class="muted">—</span>`;
      return html`<span class="net"><span>↓ ${rate(m.netIn && m.netIn.value)}</span><span>↑ ${rate(m.netOut && m.netOut.value)}</span></span>`;
    },
  },
  uptime: { label: "Uptime", sort: "uptime", width: "90px", priority: 3, className: "num", cell: (r, d) => (d.uptime === null ? html`<span class="muted">—</span>` : duration(d.uptime)) },
  usage: { label: "Usage", sort: "disk", width: "minmax(140px, 1.4fr)", cell: (r, d) => html`<${Meter} value=${d.disk} label="Usage" />` },
  size: {
    label: "Used / total", width: "minmax(140px, 1fr)", priority: 2, className: "num",
    cell: (r) => {
      const m = (r.metrics || {}).disk;
      return m && typeof m.total === "number" ? `${bytes(m.used)} / ${bytes(m.total)}` : html`<span class="muted">—</span>`;
    },
  },
};

const infraSub = (r, d) => {
  const id = r.identity || {};
  return [d.kind, (id.ipAddresses || [])[0]].filter(Boolean).join(" · ");
};
const onSub = (r, d) => [d.kind, parentName(r) && `on ${parentName(r)}`].filter(Boolean).join(" · ");

const COLUMNS = {
  infrastructure: [COL.name(infraSub), COL.status, COL.kind, COL.sources, COL.cpu, COL.memory, COL.disk, COL.net, COL.uptime],
  workloads: [COL.name(onSub), COL.status, COL.kind, COL.sources, COL.cpu, COL.memory, COL.disk, COL.net, COL.uptime],
  storage: [COL.name(onSub), COL.status, COL.kind, COL.sources, COL.usage, COL.size],
};

// ---- the page ---------------------------------------------------------------------------------

const remembered = new Map();

function ConnectionHealth() {
  const s = useStore("health");
  const entries = Object.entries(s.health || {});
  if (entries.length === 0) return null;
  const ok = (v) => v === true || (v && (v.healthy === true || v.status === "healthy" || v.status === "online"));
  const failing = entries.filter(([, v]) => !ok(v));
  // Resolving names walks every resource: only when health or the set of resources changes.
  const labels = useMemo(() => healthLabels(entries.map(([k]) => k), s.resources), [s.health, s.structure]);
  return html`<details class="health">
    <summary><span class=${`status status-${failing.length ? "warning" : "online"}`}><span class="dot" aria-hidden="true"></span></span>
      Connections: ${entries.length - failing.length} healthy${failing.length ? `, ${failing.length} failing` : ""}</summary>
    <ul>${entries.map(([name, v]) => html`<li title=${name}><${Status} status=${ok(v) ? "online" : "offline"} compact /> ${labels.get(name)}</li>`)}</ul>
  </details>`;
}

/** One resource page; `name` is "infrastructure", "workloads" or "storage". */
export function ResourcePage({ name, selectedId, searchRef }) {
  const page = PAGES[name];
  const saved = remembered.get(name) || { filters: noFilters(), sort: { key: "name", dir: "asc" } };
  const [filters, setFilters] = useState(saved.filters);
  const [sort, setSort] = useState(saved.sort);
  useEffect(() => { remembered.set(name, { filters, sort }); }, [name, filters, sort]);
  useStore("resources");
  useFeatureAvailability();
  const chartData = useCharts();
  const viewRef = useRef(null);
  const view = updateView(viewRef.current, store, page.types, filters, sort);
  viewRef.current = view;
  const ctx = useMemo(() => ({ charts: chartData }), [chartData]);
  const columns = COLUMNS[name];

  if (!store.ready) {
    return html`<div class="page"><header class="page-head"><h1>${page.title}</h1></header><p class="muted">Waiting for live data…</p></div>`;
  }
  return html`<div class="page">
    <header class="page-head">
      <div>
        <h1>${page.title}</h1>
        <p class="blurb">${page.blurb}</p>
      </div>
      <div class="head-side">
        ${name === "infrastructure" ? html`<${ConnectionHealth} />` : null}
        ${isUnavailable("charts") ? html`<p class="muted small">Trend sparklines are not available in this build.</p>` : null}
      </div>
    </header>
    <${FilterBar} title=${page.title} filters=${filters} onChange=${setFilters} facets=${view.facets} counts=${view.counts}
      total=${view.members.size} shown=${view.rows.length} searchRef=${searchRef} />
    <${VirtualTable} label=${page.title} rows=${view.rows} columns=${columns} sort=${sort} onSort=${setSort}
      onOpen=${showResource} selectedId=${selectedId} ctx=${ctx}
      empty=${view.members.size === 0 ? page.empty : "Nothing matches these filters."} />
  </div>`;
}

