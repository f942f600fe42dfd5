// The live state the dashboard shows: resources (by id), alerts, connection health and the
// connection's own status. Fed by live.js from the WebSocket; pages subscribe to the parts they
// show. Resource objects are immutable: a delta replaces exactly the objects it changes, so
// everything else keeps its identity and its rows do not re-render.

import { mergePatch } from "./merge.js";
import { useEffect, useState } from "./html.js";

export class LiveStore {
  constructor() {
    /** id → resource */
    this.resources = new Map();
    /** Bumped on every change of resources. */
    this.version = 0;
    /** Bumped when resources are added, removed or replaced wholesale. */
    this.structure = 0;
    /** Ids changed by the last resource change, or null after a full replacement. */
    this.changed = null;
    /** Whether an initial state has arrived. */
    this.ready = false;
    this.health = {};
    this.stats = {};
    this.lastUpdate = 0;
    /** alert id → alert */
    this.alerts = new Map();
    this.resolved = [];
    /** "connecting" | "live" | "lost" */
    this.connection = { state: "connecting", retryAt: 0 };
    this.listeners = new Set();
  }

  /** Calls `fn(kinds)` after each change; returns the unsubscribe function. */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(kinds) {
    for (const fn of this.listeners) fn(kinds);
  }

  /** A full state (`initialState`, or `rawData` carrying `resources`): replaces everything. */
  replaceAll(data) {
    const next = new Map();
    for (const r of data.resources || []) next.set(r.id, r);
    this.resources = next;
    this.changed = null;
    this.version += 1;
    this.structure += 1;
    this.ready = true;
    const kinds = new Set(["resources"]);
    if (Array.isArray(data.activeAlerts)) {
      this.alerts = new Map(data.activeAlerts.map((a) => [a.id, a]));
      kinds.add("alerts");
    }
    if (Array.isArray(data.recentlyResolved)) this.resolved = data.recentlyResolved.slice(-100);
    this.takeScalars(data, kinds);
    this.emit(kinds);
  }

  /** A `rawData` delta: changed top-level fields whole, resources as merge-patch upserts. */
  applyDelta(data) {
    if (Array.isArray(data.resources)) {
      this.replaceAll(data);
      return;
    }
    const kinds = new Set();
    const delta = data.resourceDelta;
    if (delta) {
      const changed = new Set();
      let structural = false;
      const next = this.resources;
      for (const id of delta.removed || []) {
        if (next.delete(id)) {
          changed.add(id);
          structural = true;
        }
      }
      for (const upsert of delta.upserts || []) {
        const old = next.get(upsert.id);
        if (old === undefined) structural = true;
        next.set(upsert.id, old === undefined ? upsert : mergePatch(old, upsert));
        changed.add(upsert.id);
      }
      if (changed.size > 0) {
        this.changed = changed;
        this.version += 1;
        if (structural) this.structure += 1;
        kinds.add("resources");
      }
    }
    if (Array.isArray(data.activeAlerts)) {
      this.alerts = new Map(data.activeAlerts.map((a) => [a.id, a]));
      kinds.add("alerts");
    }
    this.takeScalars(data, kinds);
    if (kinds.size > 0) this.emit(kinds);
  }

  takeScalars(data, kinds) {
    if (data.connectionHealth) { this.health = data.connectionHealth; kinds.add("health"); }
    if (data.stats) { this.stats = data.stats; kinds.add("stats"); }
    if (data.lastUpdate) this.lastUpdate = data.lastUpdate;
  }

  /** An `alert` frame: a new or updated active alert. */
  upsertAlert(alert) {
    if (!alert || !alert.id) return;
    this.alerts = new Map(this.alerts).set(alert.id, alert);
    this.emit(new Set(["alerts"]));
  }

  /** An `alertResolved` frame. */
  resolveAlert(id) {
    const alert = this.alerts.get(id);
    if (!alert) return;
    this.alerts = new Map(this.alerts);
    this.alerts.delete(id);
    this.resolved = [...this.resolved.slice(-99), { ...alert, resolvedTime: Date.now() }];
    this.emit(new Set(["alerts"]));
  }

  setConnection(state, retryAt = 0) {
    this.connection = { state, retryAt };
    this.emit(new Set(["connection"]));
  }

  /** Resources whose parentId is `id`. */
  childrenOf(id) {
    const out = [];
    for (const r of this.resources.values()) if (r.parentId === id) out.push(r);
    return out;
  }
}

/** The dashboard's one store. */
export const store = new LiveStore();

/** Re-renders the caller whenever one of `kinds` changes; returns the store. */
export function useStore(...kinds) {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe((changed) => {
    if (kinds.some((k) => changed.has(k))) setTick((t) => t + 1);
  }), kinds);
  return store;
}
