// The signed-in app: header with navigation, theme switch and sign-out; the connection banner; the
// current page; the resource drawer; the keyboard shortcut help.

import { html, useEffect, useRef, useState } from "../html.js";
import { useStore } from "../store.js";
import { ROUTES, navigate, useRoute, installShortcuts, showResource } from "../router.js";
import { ConnectionBanner, Toasts } from "./notice.js";
import { Drawer } from "./drawer.js";
import { ResourcePage } from "../pages/resources.js";
import { AlertsPage } from "../pages/alerts.js";
import { SettingsPage } from "../pages/settings.js";

const THEME_KEY = "pulse.theme";

/** The theme in force: the saved choice, else the system's. */
export function initialTheme() {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === "dark" || saved === "light") return saved;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
}

function LiveDot() {
  const s = useStore("connection");
  const state = s.connection.state;
  const word = state === "live" ? "Live" : state === "lost" ? "Offline" : "Connecting";
  return html`<span class=${`live live-${state}`} title=${`Live updates: ${word.toLowerCase()}`}><span class="dot" aria-hidden="true"></span>${word}</span>`;
}

function AlertCount() {
  const s = useStore("alerts");
  const n = s.alerts.size;
  if (n === 0) return null;
  const critical = [...s.alerts.values()].some((a) => a.level === "critical");
  return html`<span class=${`nav-count${critical ? " critical" : ""}`} aria-label=${`${n} active`}>${n}</span>`;
}

function Help({ onClose }) {
  const box = useRef(null);
  useEffect(() => { if (box.current) box.current.focus(); }, []);
  const keys = [["/", "Search this page"], ["g i", "Infrastructure"], ["g w", "Workloads"], ["g s", "Storage"], ["g a", "Alerts"], ["g t", "Settings"], ["↑ ↓ Enter", "Move in a table, open details"], ["Esc", "Close"], ["?", "This help"]];
  return html`<div class="modal-back" onClick=${onClose}>
    <div class="modal card" role="dialog" aria-modal="true" aria-labelledby="help-h" tabindex="-1" ref=${box} onClick=${(e) => e.stopPropagation()}>
      <h2 id="help-h">Keyboard shortcuts</h2>
      <dl class="keys">${keys.map(([k, v]) => html`<dt><kbd>${k}</kbd></dt><dd>${v}</dd>`)}</dl>
      <button type="button" class="btn" onClick=${onClose}>Close</button>
    </div>
  </div>`;
}

export function Shell({ user, onLogout }) {
  const route = useRoute();
  const [theme, setTheme] = useState(initialTheme);
  const [help, setHelp] = useState(false);
  const searchRef = useRef(null);
  useEffect(() => applyTheme(theme), [theme]);
  useEffect(() => installShortcuts({
    search: () => searchRef.current && searchRef.current.focus(),
    help: () => setHelp(true),
    escape: () => { setHelp(false); showResource(null); },
  }), []);
  const toggleTheme = () => {
    const next = theme === "dark" ? "light" : "dark";
    localStorage.setItem(THEME_KEY, next);
    setTheme(next);
  };
  const pageName = route.path.slice(1);
  let page;
  if (pageName === "alerts") page = html`<${AlertsPage} />`;
  else if (pageName === "settings") page = html`<${SettingsPage} tab=${route.params.get("tab")} onTab=${(t) => navigate("/settings", { tab: t }, true)} />`;
  else page = html`<${ResourcePage} key=${pageName} name=${pageName} selectedId=${route.resource} searchRef=${searchRef} />`;
  return html`<div class=${`shell${route.resource ? " with-drawer" : ""}`}>
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/infrastructure" onClick=${(e) => { e.preventDefault(); navigate("/infrastructure"); }}>
        <img src="/favicon.svg" alt="" width="24" height="24" /><span>Pulse</span></a>
      <nav aria-label="Main">
        ${ROUTES.map((r) => html`<a href=${r.path} class=${route.path === r.path ? "on" : ""} aria-current=${route.path === r.path ? "page" : undefined}
          onClick=${(e) => { e.preventDefault(); navigate(r.path); }}>${r.label}${r.path === "/alerts" ? html`<${AlertCount} />` : null}</a>`)}
      </nav>
      <div class="top-side">
        <${LiveDot} />
        <button type="button" class="btn icon" onClick=${() => setHelp(true)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">?</button>
        <button type="button" class="btn icon" onClick=${toggleTheme} aria-label=${theme === "dark" ? "Switch to light theme" : "Switch to dark theme"}
          title="Theme">${theme === "dark" ? "☀" : "☾"}</button>
        <span class="user" title="Signed in">${user}</span>
        <button type="button" id="sign-out" class="btn small ghost" onClick=${onLogout}>Sign out</button>
      </div>
    </header>
    <${ConnectionBanner} />
    <main id="main" class="main">${page}</main>
    ${route.resource && pageName !== "settings" ? html`<${Drawer} id=${route.resource} />` : null}
    ${help ? html`<${Help} onClose=${() => setHelp(false)} />` : null}
    <${Toasts} />
  </div>`;
}
