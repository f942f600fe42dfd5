// Settings → Alert thresholds: the trigger and clear levels (hysteresis) of the default CPU, memory
// and disk thresholds for guests, nodes and storage. The rest of the alert configuration is sent
// back unchanged; the server's validation message is shown as it is.

import { html, useEffect, useState } from "../html.js";
import { put } from "../api.js";
import { useFeatureData } from "../features.js";
import { Button, useAction } from "../ui/form.js";
import { LoadState, ErrorText, toast } from "../ui/notice.js";

/** [section key, metric key or null (the section itself is {trigger, clear}), row label]. */
const ROWS = [
  ["guestDefaults", "cpu", "Guests — CPU"],
  ["guestDefaults", "memory", "Guests — memory"],
  ["guestDefaults", "disk", "Guests — disk"],
  ["nodeDefaults", "cpu", "Nodes and hosts — CPU"],
  ["nodeDefaults", "memory", "Nodes and hosts — memory"],
  ["nodeDefaults", "disk", "Nodes and hosts — disk"],
  ["storageDefault", null, "Storage — usage"],
];

const pick = (config, section, metric) => {
  const s = config && config[section];
  if (!s) return null;
  return metric ? s[metric] || null : s;
};

/** A copy of `config` with `value` at section/metric/field. */
export function withThreshold(config, section, metric, field, value) {
  const next = { ...config, [section]: { ...(config[section] || {}) } };
  if (metric) next[section][metric] = { ...(next[section][metric] || {}), [field]: value };
  else next[section][field] = value;
  return next;
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
      if (saved && typeof saved === "object" && saved.guestDefaults) setConfig(saved);
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
