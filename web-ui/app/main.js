// Entry point: decides between the first-run setup, the sign-in form and the app, and keeps the
// live connection running while signed in.

import "./perf.js";
import { html, render, useEffect, useState } from "./html.js";
import { get, post, hasSessionCookie, onUnauthorized } from "./api.js";
import { startLive, stopLive } from "./live.js";
import { LoginPage, SetupPage } from "./pages/login.js";
import { Shell, applyTheme, initialTheme } from "./ui/shell.js";

applyTheme(initialTheme());

/** What the server says about this browser: {setupRequired, authenticated, username}. */
async function status() {
  try {
    return await get("/api/security/status");
  } catch {
    // An older server without the status route: a session cookie is the best hint we have.
    return { setupRequired: false, authenticated: hasSessionCookie(), username: "" };
  }
}

function App() {
  const [who, setWho] = useState(null);
  const check = async () => {
    const s = await status();
    setWho(s);
    return s;
  };
  useEffect(() => { check(); }, []);
  useEffect(() => onUnauthorized(() => { stopLive(); check(); }), []);
  useEffect(() => {
    if (!who || !who.authenticated) return undefined;
    startLive(async () => {
      const s = await status();
      if (!s.authenticated) { stopLive(); setWho(s); }
    });
    return undefined;
  }, [who && who.authenticated]);
  const logout = async () => {
    stopLive();
    try { await post("/api/logout"); } catch { /* signed out locally either way */ }
    location.assign("/infrastructure");
  };
  if (!who) return html`<p class="boot">Loading Pulse…</p>`;
  if (!who.authenticated) {
    return who.setupRequired ? html`<${SetupPage} onDone=${check} />` : html`<${LoginPage} onDone=${check} />`;
  }
  return html`<${Shell} user=${who.username || "API token"} onLogout=${logout} />`;
}

document.getElementById("app").textContent = "";
render(html`<${App} />`, document.getElementById("app"));
