// Settings → Endpoints: the Proxmox VE/PBS/PMG and TrueNAS connections Pulse polls. Add one with
// a connection test first (the result is shown as the server reports it), or remove one.

import { html, useEffect, useMemo, useState } from "../html.js";
import { post, del } from "../api.js";
import { guarded, useFeatureData } from "../features.js";
import { useStore } from "../store.js";
import { healthLabels } from "../catalog.js";
import { Field, Button, useAction } from "../ui/form.js";
import { LoadState, ErrorText, toast } from "../ui/notice.js";
import { Status } from "../ui/badges.js";

const KINDS = [
  ["pve", "Proxmox VE"], ["pbs", "Proxmox Backup Server"], ["pmg", "Proxmox Mail Gateway"], ["truenas", "TrueNAS"],
];
const KIND_LABEL = Object.fromEntries(KINDS);
const PORT_HINT = { pve: "https://pve.example:8006", pbs: "https://pbs.example:8007", pmg: "https://pmg.example:8006", truenas: "truenas.example" };

const blank = (type) => ({
  type, name: "", host: "", auth: type === "truenas" ? "apiKey" : "token", tokenName: "", tokenValue: "", user: "", password: "",
  apiKey: "", username: "", port: 443, useHttps: true, fingerprint: "", verifySSL: true, insecureSkipVerify: false,
});

/** The request body the API expects for form values `f`. */
export function endpointBody(f) {
  if (f.type === "truenas") {
    const body = { name: f.name, host: f.host, port: Number(f.port) || 443, useHttps: f.useHttps, insecureSkipVerify: f.insecureSkipVerify, enabled: true };
    if (f.fingerprint) body.fingerprint = f.fingerprint;
    if (f.auth === "apiKey") body.apiKey = f.apiKey;
    else Object.assign(body, { username: f.username, password: f.password });
    return body;
  }
  const body = { type: f.type, name: f.name, host: f.host, verifySSL: f.verifySSL };
  if (f.fingerprint) body.fingerprint = f.fingerprint;
  if (f.auth === "token") Object.assign(body, { tokenName: f.tokenName, tokenValue: f.tokenValue });
  else Object.assign(body, { user: f.user, password: f.password });
  return body;
}

const listOf = (data, key) => (Array.isArray(data) ? data : (data && Array.isArray(data[key]) ? data[key] : []));

function AddEndpoint({ kinds, onSaved }) {
  const [f, setF] = useState(() => blank(kinds[0][0]));
  const offered = kinds.map(([k]) => k).join();
  useEffect(() => { if (!kinds.some(([k]) => k === f.type)) setF(blank(kinds[0][0])); }, [offered]);
  const [result, setResult] = useState(null);
  const action = useAction();
  const set = (k) => (v) => { setF((old) => ({ ...old, [k]: v })); setResult(null); };
  const truenas = f.type === "truenas";
  const base = truenas ? "/api/truenas/connections" : "/api/config/nodes";
  const feature = truenas ? "truenas" : "nodes";
  const test = () => action.run(async () => {
    setResult(null);
    const path = truenas ? "/api/truenas/connections/test" : "/api/config/nodes/test-connection";
    const res = await guarded(feature, () => post(path, endpointBody(f)));
    const ok = res && res.success !== false;
    setResult({ ok, message: (res && res.message) || (ok ? "Connected." : "The connection failed.") });
  });
  const save = (ev) => {
    ev.preventDefault();
    action.run(async () => {
      await guarded(feature, () => post(base, endpointBody(f)));
      toast(`${KIND_LABEL[f.type]} endpoint “${f.name}” added`);
      setF(blank(f.type));
      setResult(null);
      onSaved();
    });
  };
  return html`<form class="card form" onSubmit=${save} aria-labelledby="add-ep-h">
    <h3 id="add-ep-h">Add an endpoint</h3>
    <div class="grid2">
      <${Field} label="Platform" type="select" value=${f.type} options=${kinds} onInput=${(v) => { setF({ ...blank(v), name: f.name, host: f.host }); setResult(null); }} />
      <${Field} label="Name" name="name" value=${f.name} onInput=${set("name")} required hint="Shown in Pulse, e.g. “homelab”." />
      <${Field} label="Host" name="host" value=${f.host} onInput=${set("host")} required placeholder=${PORT_HINT[f.type]} />
      ${truenas ? html`<${Field} label="Port" name="port" type="number" value=${f.port} min="1" max="65535" onInput=${set("port")} />` : null}
      <${Field} label="Authentication" name="auth" type="select" value=${f.auth} onInput=${set("auth")}
        options=${truenas ? [["apiKey", "API key"], ["password", "Username and password"]] : [["token", "API token"], ["password", "User and password"]]} />
      ${f.auth === "token" ? html`
        <${Field} label="Token ID" name="tokenName" value=${f.tokenName} onInput=${set("tokenName")} required placeholder="pulse@pve!monitoring" />
        <${Field} label="Token secret" name="tokenValue" type="password" autocomplete="off" value=${f.tokenValue} onInput=${set("tokenValue")} required />` : null}
      ${f.auth === "apiKey" ? html`<${Field} label="API key" name="apiKey" type="password" autocomplete="off" value=${f.apiKey} onInput=${set("apiKey")} required />` : null}
      ${f.auth === "password" && !truenas ? html`
        <${Field} label="User" name="user" value=${f.user} onInput=${set("user")} required placeholder="root@pam" />
        <${Field} label="Password" name="password" type="password" autocomplete="off" value=${f.password} onInput=${set("password")} required />` : null}
      ${f.auth === "password" && truenas ? html`
        <${Field} label="Username" name="username" value=${f.username} onInput=${set("username")} required />
        <${Field} label="Password" name="password" type="password" autocomplete="off" value=${f.password} onInput=${set("password")} required />` : null}
      <${Field} label="Certificate fingerprint (SHA-256)" name="fingerprint" value=${f.fingerprint} onInput=${set("fingerprint")}
        hint="Optional: pins a self-signed certificate." />
    </div>
    ${truenas
      ? html`<${Field} type="checkbox" label="Use HTTPS" value=${f.useHttps} onInput=${set("useHttps")} />
             <${Field} type="checkbox" label="Skip certificate verification" value=${f.insecureSkipVerify} onInput=${set("insecureSkipVerify")} hint="Only for testing; prefer a fingerprint." />`
      : html`<${Field} type="checkbox" label="Verify the TLS certificate" value=${f.verifySSL} onInput=${set("verifySSL")} hint="Turn off for self-signed certificates, or pin a fingerprint instead." />`}
    ${result ? html`<p class=${`result ${result.ok ? "ok" : "bad"}`} role="status"><strong>${result.ok ? "Connection works" : "Connection failed"}:</strong> ${result.message}</p>` : null}
    <${ErrorText} error=${action.error} />
    <div class="actions">
      <${Button} onClick=${test} busy=${action.busy} disabled=${!f.host}>Test connection</${Button}>
      <${Button} type="submit" kind="primary" busy=${action.busy}>Add endpoint</${Button}>
    </div>
  </form>`;
}

function RemoveButton({ label, onConfirm }) {
  const [asking, setAsking] = useState(false);
  const action = useAction();
  if (!asking) return html`<button type="button" class="btn small ghost" onClick=${() => setAsking(true)} aria-label=${`Remove ${label}`}>Remove</button>`;
  return html`<span class="confirm">
    <${Button} kind="small danger" busy=${action.busy} onClick=${() => action.run(onConfirm)} label=${`Confirm removing ${label}`}>Confirm remove</${Button}>
    <button type="button" class="btn small ghost" onClick=${() => setAsking(false)}>Cancel</button>
    <${ErrorText} error=${action.error} />
  </span>`;
}

/** Loads and renders one endpoint list (a hook: it keeps its request state). */
function useEndpointList({ feature, path, keyName, title, render }) {
  const res = useFeatureData(feature, path);
  const items = listOf(res.data, keyName);
  return { res, items, view: html`<section class="card" aria-label=${title}>
    <h3>${title}</h3>
    ${res.state !== "ready" ? html`<${LoadState} result=${res} what=${title} />`
      : items.length === 0 ? html`<p class="muted">None configured.</p>`
      : html`<ul class="rows">${items.map((item) => render(item, res.reload))}</ul>`}
  </section>` };
}

export function EndpointsSettings() {
  const s = useStore("health");
  const health = Object.entries(s.health || {});
  // Resolving names walks every resource: only when health or the set of resources changes.
  const labels = useMemo(() => healthLabels(health.map(([k]) => k), s.resources), [s.health, s.structure]);
  const nodes = useEndpointList({
    feature: "nodes", path: "/api/config/nodes", keyName: "nodes", title: "Proxmox endpoints",
    render: (n, reload) => html`<li key=${n.id}><span><strong>${n.name}</strong> <span class="muted">${KIND_LABEL[n.type] || n.type} · ${n.host}</span></span>
      <${RemoveButton} label=${n.name} onConfirm=${async () => { await del(`/api/config/nodes/${encodeURIComponent(n.id)}`); toast(`Removed ${n.name}`); reload(); }} /></li>`,
  });
  const truenas = useEndpointList({
    feature: "truenas", path: "/api/truenas/connections", keyName: "connections", title: "TrueNAS connections",
    render: (c, reload) => html`<li key=${c.id}><span><strong>${c.name}</strong> <span class="muted">TrueNAS · ${c.host}${c.port ? `:${c.port}` : ""}</span></span>
      <${RemoveButton} label=${c.name} onConfirm=${async () => { await del(`/api/truenas/connections/${encodeURIComponent(c.id)}`); toast(`Removed ${c.name}`); reload(); }} /></li>`,
  });
  const reload = () => { nodes.res.reload(); truenas.res.reload(); };
  const kinds = KINDS.filter(([k]) => (k === "truenas" ? truenas : nodes).res.state !== "unavailable");
  return html`<div class="stack">
    <section class="card" aria-labelledby="health-h">
      <h3 id="health-h">Connection health</h3>
      ${health.length === 0 ? html`<p class="muted">No sources have reported yet.</p>` : html`<ul class="rows">
        ${health.map(([name, v]) => {
          const ok = v === true || (v && (v.healthy === true || v.status === "healthy"));
          return html`<li key=${name} title=${name}><span><${Status} status=${ok ? "online" : "offline"} compact /> ${labels.get(name)}</span><span class="muted">${ok ? "healthy" : "failing"}</span></li>`;
        })}</ul>`}
    </section>
    ${nodes.view}
    ${truenas.view}
    ${kinds.length > 0 ? html`<${AddEndpoint} kinds=${kinds} onSaved=${reload} />` : null}
  </div>`;
}
