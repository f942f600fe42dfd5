// Client-side routes (/infrastructure, /workloads, /storage, /alerts, /settings, with ?resource=ID
// for the detail drawer) and the keyboard shortcuts: "/" search, "g i|w|s|a|t" go to a page,
// "?" the shortcut help, Escape closes what is open.

import { useEffect, useState } from "./html.js";

export const ROUTES = [
  { path: "/infrastructure", key: "i", label: "Infrastructure" },
  { path: "/workloads", key: "w", label: "Workloads" },
  { path: "/storage", key: "s", label: "Storage" },
  { path: "/alerts", key: "a", label: "Alerts" },
  { path: "/settings", key: "t", label: "Settings" },
];

const listeners = new Set();
const notify = () => listeners.forEach((fn) => fn());
window.addEventListener("popstate", notify);

/** The current route: `{path, resource, params}`; unknown paths map to /infrastructure. */
export function current() {
  const known = ROUTES.find((r) => location.pathname.startsWith(r.path));
  const params = new URLSearchParams(location.search);
  return { path: known ? known.path : "/infrastructure", resource: params.get("resource"), params };
}

/** Navigates within the app (no reload). `params` replaces the query string. */
export function navigate(path, params = {}, replace = false) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const url = `${path}${q.toString() ? `?${q}` : ""}`;
  if (url === `${location.pathname}${location.search}`) return;
  history[replace ? "replaceState" : "pushState"](null, "", url);
  notify();
}

/** Opens (id) or closes (null) the resource drawer on the current page. */
export function showResource(id) {
  const { path, params } = current();
  const next = Object.fromEntries(params);
  if (id) next.resource = id; else delete next.resource;
  navigate(path, next);
}

/** The current route, re-rendering the caller on navigation. */
export function useRoute() {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const fn = () => setRoute(current());
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return route;
}

const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

/**
 * Installs the global shortcuts. `actions`: {search(), help(), escape()}. Returns the uninstaller.
 */
export function installShortcuts(actions) {
  let leader = 0;
  const onKey = (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Escape") { actions.escape(); return; }
    if (typing(ev.target)) return;
    if (ev.key === "/") { ev.preventDefault(); actions.search(); return; }
    if (ev.key === "?") { ev.preventDefault(); actions.help(); return; }
    if (ev.key === "g") { leader = Date.now(); return; }
    if (leader && Date.now() - leader < 1500) {
      const route = ROUTES.find((r) => r.key === ev.key);
      leader = 0;
      if (route) { ev.preventDefault(); navigate(route.path); }
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
