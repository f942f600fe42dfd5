// Settings → Notifications: webhooks (from service templates, with a test that shows what the
// remote end answered) and email (SMTP) with a test message.

import { html, useEffect, useState } from "../html.js";
import { post, put, del } from "../api.js";
import { guarded, useFeatureData } from "../features.js";
import { Field, Button, useAction } from "../ui/form.js";
import { LoadState, ErrorText, toast } from "../ui/notice.js";

const FALLBACK_SERVICES = [{ service: "generic", label: "Generic JSON" }];

const blankHook = (service = "generic") => ({ name: "", url: "", method: "POST", service, headersText: "", signingSecret: "", enabled: true });

/** "Key: value" lines → {Key: "value"}. */
export function parseHeaders(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf(":");
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function hookBody(f) {
  const body = { name: f.name, url: f.url, method: f.method, service: f.service, headers: parseHeaders(f.headersText), enabled: f.enabled, customFields: {} };
  if (f.signingSecret) body.signingSecret = f.signingSecret;
  return body;
}

function TestResult({ result }) {
  if (!result) return null;
  const ok = result.success !== false && (!result.status || (result.status >= 200 && result.status < 300));
  return html`<div class=${`result ${ok ? "ok" : "bad"}`} role="status">
    <strong>${ok ? "Test delivered" : "Test failed"}</strong>${result.status ? html` — the remote end answered <code>${result.status}</code>` : null}
    ${result.message ? html`<div>${result.message}</div>` : null}
    ${result.body ? html`<pre class="reply">${String(result.body).slice(0, 2000)}</pre>` : null}
  </div>`;
}

function AddWebhook({ services, onSaved }) {
  const [f, setF] = useState(blankHook(services[0].service));
  const [result, setResult] = useState(null);
  const action = useAction();
  const set = (k) => (v) => setF((old) => ({ ...old, [k]: v }));
  const test = () => action.run(async () => {
    setResult(null);
    setResult(await guarded("webhooks", () => post("/api/notifications/webhooks/test", hookBody(f))));
  });
  const save = (ev) => {
    ev.preventDefault();
    action.run(async () => {
      await guarded("webhooks", () => post("/api/notifications/webhooks", hookBody(f)));
      toast(`Webhook “${f.name}” added`);
      setF(blankHook(f.service));
      setResult(null);
      onSaved();
    });
  };
  return html`<form class="card form" id="add-webhook" onSubmit=${save} aria-labelledby="add-hook-h">
    <h3 id="add-hook-h">Add a webhook</h3>
    <div class="grid2">
      <${Field} label="Service" name="service" type="select" value=${f.service} options=${services.map((s) => [s.service, s.label || s.service])} onInput=${set("service")} />
      <${Field} label="Name" name="name" value=${f.name} onInput=${set("name")} required />
      <${Field} label="URL" name="url" type="url" value=${f.url} onInput=${set("url")} required placeholder="https://hooks.example.com/…" />
      <${Field} label="Method" name="method" type="select" value=${f.method} options=${[["POST", "POST"], ["PUT", "PUT"]]} onInput=${set("method")} />
      <${Field} label="Signing secret" name="signingSecret" type="password" autocomplete="off" value=${f.signingSecret} onInput=${set("signingSecret")}
        hint="Optional: deliveries are signed with HMAC-SHA256 (X-Pulse-Signature)." />
    </div>
    <div class="field"><label for="hook-headers">Extra headers</label>
      <textarea id="hook-headers" name="headers" rows="2" placeholder="Authorization: Bearer …" value=${f.headersText} onInput=${(e) => set("headersText")(e.target.value)}></textarea>
      <small class="muted">One “Name: value” per line.</small></div>
    <${Field} type="checkbox" label="Enabled" value=${f.enabled} onInput=${set("enabled")} />
    <${TestResult} result=${result} />
    <${ErrorText} error=${action.error} />
    <div class="actions">
      <${Button} onClick=${test} busy=${action.busy} disabled=${!f.url}>Send test</${Button}>
      <${Button} type="submit" kind="primary" busy=${action.busy}>Add webhook</${Button}>
    </div>
  </form>`;
}

function WebhookRow({ hook, onChanged }) {
  const action = useAction();
  const [asking, setAsking] = useState(false);
  const [result, setResult] = useState(null);
  const toggle = () => action.run(async () => {
    await put(`/api/notifications/webhooks/${encodeURIComponent(hook.id)}`, { ...hook, enabled: !hook.enabled });
    onChanged();
  });
  const test = () => action.run(async () => setResult(await post("/api/notifications/webhooks/test", { id: hook.id })));
  const remove = () => action.run(async () => {
    await del(`/api/notifications/webhooks/${encodeURIComponent(hook.id)}`);
    toast(`Webhook “${hook.name}” removed`);
    onChanged();
  });
  return html`<li class="webhook">
    <div class="row-main">
      <span><strong>${hook.name}</strong> <span class="muted">${hook.service || "generic"} · ${hook.method || "POST"} ${hook.url}</span></span>
      <span class="actions">
        <button type="button" class="btn small" onClick=${test} disabled=${action.busy}>Test</button>
        <button type="button" class="btn small" onClick=${toggle} disabled=${action.busy} aria-pressed=${hook.enabled ? "true" : "false"}>${hook.enabled ? "Enabled" : "Disabled"}</button>
        ${asking
          ? html`<button type="button" class="btn small danger" onClick=${remove} disabled=${action.busy}>Confirm remove</button>
                 <button type="button" class="btn small ghost" onClick=${() => setAsking(false)}>Cancel</button>`
          : html`<button type="button" class="btn small ghost" onClick=${() => setAsking(true)} aria-label=${`Remove webhook ${hook.name}`}>Remove</button>`}
      </span>
    </div>
    <${TestResult} result=${result} />
    <${ErrorText} error=${action.error} />
  </li>`;
}

function Webhooks() {
  const hooks = useFeatureData("webhooks", "/api/notifications/webhooks");
  const templates = useFeatureData("webhooks", hooks.state === "ready" ? "/api/notifications/webhook-templates" : null);
  if (hooks.state !== "ready") return html`<section class="card"><h3>Webhooks</h3><${LoadState} result=${hooks} what="Webhooks" /></section>`;
  const list = Array.isArray(hooks.data) ? hooks.data : [];
  const services = templates.state === "ready" && Array.isArray(templates.data) && templates.data.length ? templates.data : FALLBACK_SERVICES;
  return html`<section class="card" aria-labelledby="hooks-h">
      <h3 id="hooks-h">Webhooks</h3>
      ${list.length === 0 ? html`<p class="muted">No webhooks yet. Alerts reach Slack, Discord, Teams, ntfy and others through one.</p>`
        : html`<ul class="rows webhooks">${list.map((h) => html`<${WebhookRow} key=${h.id} hook=${h} onChanged=${hooks.reload} />`)}</ul>`}
    </section>
    <${AddWebhook} services=${services} onSaved=${hooks.reload} />`;
}

function Email() {
  const res = useFeatureData("email", "/api/notifications/email");
  const [f, setF] = useState(null);
  const [tested, setTested] = useState("");
  const action = useAction();
  useEffect(() => {
    if (res.state === "ready") setF({ enabled: false, server: "", port: 587, username: "", password: "", from: "", tls: "starttls", ...res.data, to: ((res.data && res.data.to) || []).join(", ") });
  }, [res.state, res.data]);
  if (res.state !== "ready" || !f) return html`<section class="card"><h3>Email</h3><${LoadState} result=${res.state === "ready" ? { state: "loading" } : res} what="Email notifications" /></section>`;
  const set = (k) => (v) => setF((old) => ({ ...old, [k]: v }));
  const body = () => {
    const b = { ...f, port: Number(f.port) || 587, to: f.to.split(",").map((s) => s.trim()).filter(Boolean) };
    if (!b.password) delete b.password;
    return b;
  };
  const save = (ev) => {
    ev.preventDefault();
    action.run(async () => { await put("/api/notifications/email", body()); toast("Email settings saved"); res.reload(); });
  };
  const test = () => action.run(async () => {
    setTested("");
    const r = await post("/api/notifications/test", { method: "email" });
    setTested((r && r.message) || "Test email sent.");
  });
  return html`<form class="card form" onSubmit=${save} aria-labelledby="email-h">
    <h3 id="email-h">Email</h3>
    <${Field} type="checkbox" label="Send alerts by email" value=${f.enabled} onInput=${set("enabled")} />
    <div class="grid2">
      <${Field} label="SMTP server" value=${f.server} onInput=${set("server")} placeholder="smtp.example.com" />
      <${Field} label="Port" type="number" value=${f.port} min="1" max="65535" onInput=${set("port")} />
      <${Field} label="Security" type="select" value=${f.tls} options=${[["starttls", "STARTTLS"], ["tls", "TLS"], ["none", "None"]]} onInput=${set("tls")} />
      <${Field} label="Username" value=${f.username} onInput=${set("username")} autocomplete="off" />
      <${Field} label="Password" type="password" value=${f.password} onInput=${set("password")} autocomplete="new-password" hint="Leave empty to keep the stored password." />
      <${Field} label="From" type="email" value=${f.from} onInput=${set("from")} />
      <${Field} label="To" value=${f.to} onInput=${set("to")} hint="Comma-separated addresses." />
    </div>
    ${tested ? html`<p class="result ok" role="status">${tested}</p>` : null}
    <${ErrorText} error=${action.error} />
    <div class="actions">
      <${Button} onClick=${test} busy=${action.busy}>Send test email</${Button}>
      <${Button} type="submit" kind="primary" busy=${action.busy}>Save email settings</${Button}>
    </div>
  </form>`;
}

export function NotificationSettings() {
  return html`<div class="stack"><${Webhooks} /><${Email} /></div>`;
}
