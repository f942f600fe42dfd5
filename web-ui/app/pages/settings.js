// Settings: endpoints to monitor, notifications, alert thresholds and API tokens, one tab each.

import { html, useState } from "../html.js";
import { EndpointsSettings } from "./endpoints.js";
import { NotificationSettings } from "./notifications.js";
import { ThresholdSettings } from "./thresholds.js";
import { TokenSettings } from "./tokens.js";

const TABS = [
  ["endpoints", "Endpoints", EndpointsSettings],
  ["notifications", "Notifications", NotificationSettings],
  ["thresholds", "Alert thresholds", ThresholdSettings],
  ["tokens", "API tokens", TokenSettings],
];

export function SettingsPage({ tab, onTab }) {
  const [local, setLocal] = useState("endpoints");
  const current = TABS.find(([v]) => v === (tab || local)) || TABS[0];
  const choose = (v) => (onTab ? onTab(v) : setLocal(v));
  const Panel = current[2];
  return html`<div class="page scroll">
    <header class="page-head"><div><h1>Settings</h1>
      <p class="blurb">What Pulse monitors, where it sends alerts, when it alerts, and who may use the API.</p></div></header>
    <div class="tabs" role="tablist" aria-label="Settings">
      ${TABS.map(([v, l]) => html`<button type="button" role="tab" id=${`tab-${v}`} aria-selected=${current[0] === v ? "true" : "false"}
        class=${current[0] === v ? "on" : ""} onClick=${() => choose(v)}>${l}</button>`)}
    </div>
    <div role="tabpanel" aria-labelledby=${`tab-${current[0]}`} class="settings-panel"><${Panel} /></div>
  </div>`;
}
