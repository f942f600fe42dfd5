// Alerts: the active ones (live from the WebSocket, acknowledge / clear) and the history.

import { html, useEffect, useState } from "../html.js";
import { store, useStore } from "../store.js";
import { post, describe } from "../api.js";
import { useFeatureData, guarded, isUnavailable } from "../features.js";
import { showResource } from "../router.js";
import { LoadState, Unavailable, toast } from "../ui/notice.js";
import { ago, when, num } from "../format.js";

function Level({ level }) {
  return html`<span class=${`level lvl-${level}`}>${level === "critical" ? "Critical" : "Warning"}</span>`;
}

function resourceLink(a) {
  const known = a.resourceId && store.resources.get(a.resourceId);
  const label = a.resourceName || (known && known.name) || a.resourceId || "—";
  return known
    ? html`<button type="button" class="btn link" onClick=${() => showResource(a.resourceId)}>${label}</button>`
    : label;
}

function Active() {
  const s = useStore("alerts");
  const [busy, setBusy] = useState("");
  const loaded = useFeatureData("alerts", "/api/alerts/active");
  useEffect(() => {
    if (loaded.state === "ready" && Array.isArray(loaded.data)) {
      for (const a of loaded.data) if (!s.alerts.has(a.id)) store.upsertAlert(a);
    }
  }, [loaded.state]);
  const act = async (a, action) => {
    setBusy(`${a.id}:${action}`);
    try {
      await guarded("alerts", () => post(`/api/alerts/${action}`, { id: a.id }));
      if (action === "clear") store.resolveAlert(a.id);
      else store.upsertAlert({ ...a, acknowledged: action === "acknowledge", ackTime: Date.now() });
      toast(action === "clear" ? "Alert cleared" : action === "acknowledge" ? "Alert acknowledged" : "Acknowledgement removed");
    } catch (e) {
      toast(describe(e), "bad");
    } finally {
      setBusy("");
    }
  };
  const alerts = [...s.alerts.values()].sort((a, b) => (a.level === b.level ? (b.startTime || 0) - (a.startTime || 0) : a.level === "critical" ? -1 : 1));
  const actions = !isUnavailable("alerts");
  return html`<section aria-labelledby="active-h">
    <h2 id="active-h">Active <span class="count">${alerts.length}</span></h2>
    ${loaded.state === "unavailable" ? html`<${Unavailable} what="Alert management (acknowledge, clear, history)" />` : null}
    ${alerts.length === 0 && loaded.state === "unavailable" ? null : alerts.length === 0 ? html`<p class="empty-state">No active alerts. Everything Pulse watches is within its thresholds.</p>` : html`
    <div class="table-wrap"><table class="plain">
      <thead><tr><th scope="col">Level</th><th scope="col">Resource</th><th scope="col">Alert</th><th scope="col" class="p2">Value</th><th scope="col" class="p2">Since</th><th scope="col">State</th>${actions ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : null}</tr></thead>
      <tbody>${alerts.map((a) => html`<tr key=${a.id} class=${a.acknowledged ? "acked" : ""}>
        <td><${Level} level=${a.level} /></td>
        <td>${resourceLink(a)}${a.node ? html`<small class="muted"> on ${a.node}</small>` : null}</td>
        <td>${a.message}</td>
        <td class="p2 num">${typeof a.value === "number" ? `${num(a.value)} / ${num(a.threshold)}` : "—"}</td>
        <td class="p2" title=${when(a.startTime)}>${ago(a.startTime)}</td>
        <td>${a.acknowledged ? html`<span class="muted" title=${a.ackUser ? `by ${a.ackUser}` : ""}>Acknowledged</span>` : "Open"}</td>
        ${actions ? html`<td class="actions">
          ${a.acknowledged
            ? html`<button type="button" class="btn small" disabled=${!!busy} onClick=${() => act(a, "unacknowledge")}>Unacknowledge</button>`
            : html`<button type="button" class="btn small" disabled=${!!busy} onClick=${() => act(a, "acknowledge")}>Acknowledge</button>`}
          <button type="button" class="btn small ghost" disabled=${!!busy} onClick=${() => act(a, "clear")}>Clear</button>
        </td>` : null}
      </tr>`)}</tbody>
    </table></div>`}
  </section>`;
}

function History() {
  const res = useFeatureData("alerts", "/api/alerts/history?limit=200");
  if (res.state !== "ready") {
    return html`<section aria-labelledby="hist-h"><h2 id="hist-h">History</h2><${LoadState} result=${res} what="Alert history" /></section>`;
  }
  const list = Array.isArray(res.data) ? res.data : [];
  return html`<section aria-labelledby="hist-h">
    <h2 id="hist-h">History <span class="count">${list.length}</span></h2>
    ${list.length === 0 ? html`<p class="empty-state">No alerts have fired yet.</p>` : html`
    <div class="table-wrap"><table class="plain">
      <thead><tr><th scope="col">Level</th><th scope="col">Resource</th><th scope="col">Alert</th><th scope="col">Event</th><th scope="col" class="p2">Started</th><th scope="col" class="p2">Resolved</th></tr></thead>
      <tbody>${list.map((a, i) => html`<tr key=${`${a.id}-${i}`}>
        <td><${Level} level=${a.level} /></td><td>${resourceLink(a)}</td><td>${a.message}</td>
        <td>${a.event || (a.resolvedTime ? "resolved" : "fired")}</td>
        <td class="p2" title=${when(a.startTime)}>${when(a.startTime)}</td>
        <td class="p2">${a.resolvedTime ? when(a.resolvedTime) : "—"}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </section>`;
}

export function AlertsPage() {
  const [tab, setTab] = useState("active");
  return html`<div class="page scroll">
    <header class="page-head"><div><h1>Alerts</h1>
      <p class="blurb">Thresholds crossed, systems offline and problems the platforms report. Acknowledge what you are handling; clear what is resolved.</p></div></header>
    <div class="tabs" role="tablist" aria-label="Alerts">
      ${[["active", "Active"], ["history", "History"]].map(([v, l]) => html`<button type="button" role="tab" id=${`tab-${v}`}
        aria-selected=${tab === v ? "true" : "false"} class=${tab === v ? "on" : ""} onClick=${() => setTab(v)}>${l}</button>`)}
    </div>
    <div role="tabpanel" aria-labelledby=${`tab-${tab}`}>${tab === "active" ? html`<${Active} />` : html`<${History} />`}</div>
  </div>`;
}
