// Interim live view: signs in, opens /ws, applies initialState and rawData deltas (RFC 7386 merge-patches).
const resources = new Map();
const $ = (id) => document.getElementById(id);

function mergePatch(target, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = target && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]; else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function render() {
  const rows = [...resources.values()].sort((a, b) => a.name.localeCompare(b.name)).slice(0, 500);
  $("count").textContent = resources.size;
  const body = $("rows");
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement("tr");
    for (const [text, cls] of [[r.name], [r.type], [r.status, r.status], [(r.sources || []).join(", ")]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    return tr;
  }));
}

function connect(delay = 500) {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.onopen = () => { $("conn").textContent = "live"; $("conn").className = "badge online"; };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "initialState" || (msg.type === "rawData" && msg.data.resources)) {
      resources.clear();
      for (const r of msg.data.resources) resources.set(r.id, r);
    } else if (msg.type === "rawData" && msg.data.resourceDelta) {
      const d = msg.data.resourceDelta;
      for (const id of d.removed || []) resources.delete(id);
      for (const u of d.upserts || []) resources.set(u.id, mergePatch(resources.get(u.id), u));
    } else return;
    render();
  };
  ws.onclose = () => {
    $("conn").textContent = "connection lost — retrying"; $("conn").className = "badge offline";
    setTimeout(() => start(Math.min(delay * 2, 15000)), delay);
  };
}

async function start(delay) {
  const probe = await fetch("/api/state", { credentials: "same-origin" }).catch(() => null);
  if (probe && probe.status === 401) { $("login").hidden = false; $("live").hidden = true; return; }
  $("login").hidden = true; $("live").hidden = false;
  connect(delay);
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const res = await fetch("/api/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password"), rememberMe: false }),
  });
  if (res.ok) start(500); else $("login-error").textContent = (await res.json()).error;
});

start(500);
