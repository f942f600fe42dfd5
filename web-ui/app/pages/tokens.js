// Settings → API tokens: list, create (the raw token is shown once), delete.

import { html, useState } from "../html.js";
import { post, del } from "../api.js";
import { useFeatureData } from "../features.js";
import { Field, Button, useAction } from "../ui/form.js";
import { LoadState, ErrorText, toast } from "../ui/notice.js";
import { when } from "../format.js";

const SCOPES = [
  ["monitoring:read", "Read monitoring data"],
  ["monitoring:write", "Change monitoring state (acknowledge alerts)"],
  ["settings:read", "Read settings"],
  ["settings:write", "Change settings"],
  ["agent:report", "Host agent reports"],
  ["docker:report", "Docker agent reports"],
  ["kubernetes:report", "Kubernetes agent reports"],
  ["audit:read", "Read the audit log"],
  ["*", "Everything (full access)"],
];

const seconds = (t) => (typeof t === "number" && t < 1e12 ? t * 1000 : t);

function CreateToken({ onCreated }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState(["agent:report", "docker:report"]);
  const [created, setCreated] = useState(null);
  const action = useAction();
  const submit = (ev) => {
    ev.preventDefault();
    action.run(async () => {
      if (scopes.length === 0) throw new Error("Choose at least one scope.");
      const res = await post("/api/security/tokens", { name, scopes });
      setCreated(res);
      setName("");
      onCreated();
    });
  };
  const flip = (s) => (on) => setScopes((list) => (on ? [...list, s] : list.filter((x) => x !== s)));
  return html`<form class="card form" onSubmit=${submit} aria-labelledby="new-token-h">
    <h3 id="new-token-h">Create a token</h3>
    <${Field} label="Name" name="name" value=${name} onInput=${setName} required hint="What uses it, e.g. “agent on nas-01”." />
    <fieldset><legend>Scopes</legend>
      <div class="grid2">${SCOPES.map(([s, l]) => html`<${Field} type="checkbox" label=${html`<code>${s}</code> ${l}`} value=${scopes.includes(s)} onInput=${flip(s)} />`)}</div>
    </fieldset>
    <${ErrorText} error=${action.error} />
    ${created ? html`<div class="secret" role="status">
      <p><strong>Token “${created.name}” created.</strong> Copy it now — it is not shown again.</p>
      <div class="copy-row"><code class="token">${created.token}</code>
        <button type="button" class="btn small" onClick=${() => navigator.clipboard && navigator.clipboard.writeText(created.token).then(() => toast("Copied"))}>Copy</button></div>
    </div>` : null}
    <div class="actions"><${Button} type="submit" kind="primary" busy=${action.busy}>Create token</${Button}></div>
  </form>`;
}

export function TokenSettings() {
  const res = useFeatureData("tokens", "/api/security/tokens");
  const action = useAction();
  const [asking, setAsking] = useState("");
  const remove = (t) => action.run(async () => {
    await del(`/api/security/tokens/${encodeURIComponent(t.id)}`);
    toast(`Token “${t.name}” deleted`);
    setAsking("");
    res.reload();
  });
  const list = Array.isArray(res.data) ? res.data : [];
  return html`<div class="stack">
    <section class="card" aria-labelledby="tokens-h">
      <h3 id="tokens-h">Tokens</h3>
      <p class="muted">Agents and scripts authenticate with a token in <code>X-API-Token</code> or <code>Authorization: Bearer</code>.</p>
      ${res.state !== "ready" ? html`<${LoadState} result=${res} what="API tokens" />` : list.length === 0 ? html`<p class="muted">No tokens yet.</p>` : html`
      <div class="table-wrap"><table class="plain">
        <thead><tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Scopes</th><th scope="col" class="p2">Created</th><th scope="col" class="p2">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${list.map((t) => html`<tr key=${t.id}>
          <td>${t.name}</td><td><code>${t.prefix}…${t.suffix || ""}</code></td>
          <td>${(t.scopes || []).map((s) => html`<code class="scope">${s}</code> `)}</td>
          <td class="p2">${when(seconds(t.createdAt))}</td><td class="p2">${t.lastUsedAt ? when(seconds(t.lastUsedAt)) : "never"}</td>
          <td class="actions">${asking === t.id
            ? html`<${Button} kind="small danger" busy=${action.busy} onClick=${() => remove(t)} label=${`Confirm deleting ${t.name}`}>Confirm delete</${Button}>
                   <button type="button" class="btn small ghost" onClick=${() => setAsking("")}>Cancel</button>`
            : html`<button type="button" class="btn small ghost" aria-label=${`Delete token ${t.name}`} onClick=${() => setAsking(t.id)}>Delete</button>`}</td>
        </tr>`)}</tbody>
      </table></div>`}
      <${ErrorText} error=${action.error} />
    </section>
    <${CreateToken} onCreated=${res.reload} />
  </div>`;
}
