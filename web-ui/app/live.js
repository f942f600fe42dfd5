// The WebSocket client (SPEC §6): welcome, initialState, then rawData deltas applied to the store;
// `resync` is followed by a fresh initialState. A lost connection is retried with jittered
// exponential backoff (0.5 s doubling to 15 s); the store's connection state drives the banner.

import { store } from "./store.js";
import { frameTimer, afterCommit } from "./perf.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
const PING_EVERY_MS = 25000;

let socket = null;
let timer = 0;
let pinger = 0;
let delay = FIRST_DELAY_MS;
let stopped = true;
let onAuthLost = () => {};

function url() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws`;
}

function handle(text) {
  const start = performance.now();
  let msg;
  try { msg = JSON.parse(text); } catch { return; }
  const data = msg.data || {};
  switch (msg.type) {
    case "initialState": {
      const t = frameTimer("initial", (data.resources || []).length, start);
      store.replaceAll(data);
      t.applied();
      afterCommit(() => t.end());
      break;
    }
    case "rawData": {
      const d = data.resourceDelta;
      const t = frameTimer("delta", d ? (d.upserts || []).length + (d.removed || []).length : 0, start);
      store.applyDelta(data);
      t.applied();
      afterCommit(() => t.end());
      break;
    }
    case "alert": store.upsertAlert(data); break;
    case "alertResolved": store.resolveAlert(data.alertIdentifier); break;
    default: break; // welcome, resync (an initialState follows), pong
  }
}

function schedule() {
  const jittered = delay * (0.8 + Math.random() * 0.4);
  store.setConnection("lost", Date.now() + jittered);
  timer = setTimeout(open, jittered);
  delay = Math.min(delay * 2, MAX_DELAY_MS);
}

function open() {
  if (stopped) return;
  let opened = false;
  const ws = new WebSocket(url());
  socket = ws;
  ws.onopen = () => {
    opened = true;
    delay = FIRST_DELAY_MS;
    store.setConnection("live");
    pinger = setInterval(() => ws.readyState === 1 && ws.send('{"type":"ping"}'), PING_EVERY_MS);
  };
  ws.onmessage = (ev) => handle(ev.data);
  ws.onclose = () => {
    clearInterval(pinger);
    if (socket !== ws || stopped) return;
    socket = null;
    if (!opened) {
      // Refused before opening: the session may have ended. The app checks and, if so, stops us.
      onAuthLost();
    }
    schedule();
  };
}

/** Connects; `authCheck` is called when a connection attempt is refused. */
export function startLive(authCheck) {
  onAuthLost = authCheck;
  if (!stopped) return;
  stopped = false;
  delay = FIRST_DELAY_MS;
  store.setConnection("connecting");
  open();
}

/** Disconnects for good (logout). */
export function stopLive() {
  stopped = true;
  clearTimeout(timer);
  clearInterval(pinger);
  if (socket) {
    const ws = socket;
    socket = null;
    ws.close();
  }
}

/** Skips the wait and reconnects now (the banner's "Retry now"). */
export function retryNow() {
  if (stopped || socket) return;
  clearTimeout(timer);
  open();
}
