// Notices: "not available in this build", errors, the connection banner and transient toasts.

import { html, useEffect, useState } from "../html.js";
import { useStore } from "../store.js";
import { retryNow } from "../live.js";

/** The note shown in place of a feature whose API this server does not have. */
export function Unavailable({ what }) {
  return html`<p class="note unavailable" role="note"><strong>${what}</strong> is not available in this build of the server.</p>`;
}

/** An inline error message (announced to screen readers). */
export function ErrorText({ error }) {
  if (!error) return null;
  return html`<p class="error-text" role="alert">${typeof error === "string" ? error : error.message}</p>`;
}

/** What a data-loading state shows while not ready: spinner text, the unavailable note or the error. */
export function LoadState({ result, what }) {
  if (result.state === "loading") return html`<p class="muted">Loading ${what.toLowerCase()}…</p>`;
  if (result.state === "unavailable") return html`<${Unavailable} what=${what} />`;
  if (result.state === "error") return html`<${ErrorText} error=${result.error} />`;
  return null;
}

/** "Connection lost — retrying" while the live connection is down. */
export function ConnectionBanner() {
  const s = useStore("connection");
  const [, tick] = useState(0);
  const { state, retryAt } = s.connection;
  useEffect(() => {
    if (state !== "lost") return undefined;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [state]);
  if (state !== "lost") return null;
  const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  return html`<div class="banner" role="status" aria-live="polite">
    <span><strong>Connection lost — retrying</strong>${secs > 0 ? ` in ${secs} s` : "…"}. The data shown may be out of date.</span>
    <button type="button" class="btn small" onClick=${retryNow}>Retry now</button>
  </div>`;
}

let pushToast = () => {};

/** Shows a short message at the bottom of the screen. */
export const toast = (text, kind = "ok") => pushToast({ text, kind, id: Math.random() });

export function Toasts() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    pushToast = (t) => {
      setItems((list) => [...list.slice(-3), t]);
      setTimeout(() => setItems((list) => list.filter((x) => x.id !== t.id)), 4000);
    };
  }, []);
  return html`<div class="toasts" role="status" aria-live="polite">
    ${items.map((t) => html`<div key=${t.id} class=${`toast ${t.kind}`}>${t.text}</div>`)}
  </div>`;
}
