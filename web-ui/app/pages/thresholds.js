// Settings → Alert thresholds: the trigger and clear levels (hysteresis) of the default CPU, memory
// and disk thresholds for guests, nodes and storage. The rest of the alert configuration is sent
// back unchanged; the server's validation message is shown as it is.

import { html, useEffect, useState } from "../html.js";
import { put } from "../api.js";
import { useFeatureData } from "../features.js";
import { Button, useAction } from "../ui/form.js";
import { LoadState, ErrorText, toast } from "../ui/notice.js";

/**
 * [resource types under `thresholds` (a row edits all of them alike), metric key, row label].
 * The server's config keeps one threshold set per resource type: `thresholds.<type>.<metric>`.
 */
const ROWS = [
  [["vm", "system-container"], "cpu", "Guests — CPU"],
  [["vm", "system-container"], "memory", "Guests — memory"],
  [["vm", "system-container"], "disk", "Guests — disk"],
  [["agent"], "cpu", "Nodes and hosts — CPU"],
  [["agent"], "memory", "Nodes and hosts — memory"],
  [["agent"], "disk", "Nodes and hosts — disk"],
  [["storage"], "usage", "Storage — usage"],
];

const pick = (config, types, metric) => {
  const set = config && config.thresholds && config.thresholds[types[0]];
  return (set && set[metric]) || null;
};

/** A copy of `config` with `value` as `field` of `metric` for every type in `types`. */
export function withThreshold(config, types, metric, field, value) {
  const thresholds = { ...(config.thresholds || {}) };
  for (const type of types) {
    const set = { ...(thresholds[type] || {}) };
    set[metric] = { ...(set[metric] || {}), [field]: value };
    thresholds[type] = set;
  }
  return { ...config, thresholds };
}

export function ThresholdSettings() {
  const res = useFeatureData("alerts", "/api/alerts/config");
  const [config, setConfig] = useState(null);
  const action = useAction();
  useEffect(() => { if (res.state === "ready") setConfig(res.data); }, [res.state, res.data]);
  if (res.state !== "ready" || !config) return html`<section class="card"><h3>Alert thresholds</h3><${LoadState} result=${res.state === "ready" ? { state: "loading" } : res} what="Alert thresholds" /></section>`;
  const rows = ROWS.filter(([section, metric]) => pick(config, section, metric));
  const save = (ev) => {
    ev.preventDefault();
    action.run(async () => {
      const saved = await put("/api/alerts/config", config);
      if (saved && typeof saved === "object" && saved.thresholds) setConfig(saved);
      toast("Thresholds saved");
    });
  };
  const input = (section, metric, field, label) => {
    const t = pick(config, section, metric);
    return html`<input type="number" min="0" max="100" step="1" aria-label=${`${label} ${field}`} value=${t[field] ?? ""}
      onInput=${(e) => setConfig(withThreshold(config, section, metric, field, e.target.value === "" ? null : Number(e.target.value)))} />`;
  };
  return html`<form class="card form" onSubmit=${save} aria-labelledby="thr-h">
    <h3 id="thr-h">Alert thresholds</h3>
    <p class="muted">An alert fires when a value rises above <em>Trigger</em> and resolves once it falls below <em>Clear</em>. Values are percent.</p>
    ${rows.length === 0 ? html`<p class="muted">The server's alert configuration has no default thresholds to edit.</p>` : html`
    <div class="table-wrap"><table class="plain thresholds">
      <thead><tr><th scope="col">Threshold</th><th scope="col">Trigger %</th><th scope="col">Clear %</th></tr></thead>
      <tbody>${rows.map(([section, metric, label]) => html`<tr>
        <th scope="row">${label}</th><td>${input(section, metric, "trigger", label)}</td><td>${input(section, metric, "clear", label)}</td>
      </tr>`)}</tbody>
    </table></div>`}
    <${ErrorText} error=${action.error} />
    <div class="actions"><${Button} type="submit" kind="primary" busy=${action.busy}>Save thresholds</${Button}></div>
  </form>`;
}
