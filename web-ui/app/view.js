// A page's view of the store: its members (resources of the page's types), the filtered and
// sorted rows, status counts and the facet options for the filters. Rebuilt in full when the
// filters, the sort or the set of resources change; a delta that only changes values in place is
// applied row by row (no re-sort) when every changed row keeps its place, which is the common case.

import { derive, comparator, matcher } from "./catalog.js";

/** Builds the view of `page` (with `types`) over `store` for `filters` and `sort`. */
export function buildView(store, types, filters, sort) {
  const match = matcher(filters);
  const members = new Map();
  const rows = [];
  for (const r of store.resources.values()) {
    if (!types.has(r.type)) continue;
    members.set(r.id, r);
    if (match(r)) rows.push(r);
  }
  rows.sort(comparator(sort));
  const index = new Map();
  for (let i = 0; i < rows.length; i += 1) index.set(rows[i].id, i);
  return finish({ types, filters, sort, match, members, rows, index, store: store.structure, version: store.version });
}

function finish(view) {
  const counts = { online: 0, warning: 0, offline: 0, unknown: 0 };
  const kinds = new Map();
  const tags = new Map();
  const sources = new Set();
  for (const r of view.members.values()) {
    counts[r.status] = (counts[r.status] || 0) + 1;
    const d = derive(r);
    kinds.set(d.kind, (kinds.get(d.kind) || 0) + 1);
    for (const t of r.tags || []) tags.set(t, (tags.get(t) || 0) + 1);
    for (const s of r.sources || []) sources.add(s);
  }
  view.counts = counts;
  view.facets = { kinds, tags, sources };
  return view;
}

/**
 * The view after the store changed. Returns `prev` itself when nothing on this page changed, a
 * patched copy when changed rows keep their place, else a full rebuild.
 */
export function updateView(prev, store, types, filters, sort) {
  if (!prev || prev.filters !== filters || prev.sort !== sort || prev.types !== types) {
    return buildView(store, types, filters, sort);
  }
  if (prev.version === store.version) return prev;
  if (prev.store !== store.structure || prev.version !== store.version - 1 || !store.changed) {
    return buildView(store, types, filters, sort);
  }
  const cmp = comparator(sort);
  let rows = null;
  let counts = null;
  for (const id of store.changed) {
    const next = store.resources.get(id);
    const old = prev.members.get(id);
    if (!next || !types.has(next.type)) {
      if (old) return buildView(store, types, filters, sort);
      continue;
    }
    if (!old) return buildView(store, types, filters, sort);
    const dOld = derive(old);
    const dNew = derive(next);
    if (dOld.kind !== dNew.kind || dOld.tagsKey !== dNew.tagsKey || dOld.sourcesKey !== dNew.sourcesKey) {
      return buildView(store, types, filters, sort);
    }
    const at = prev.index.get(id);
    const matches = prev.match(next);
    if ((at !== undefined) !== matches) return buildView(store, types, filters, sort);
    if (at !== undefined) {
      rows = rows || prev.rows.slice();
      rows[at] = next;
      if ((at > 0 && cmp(rows[at - 1], next) > 0) || (at + 1 < rows.length && cmp(next, rows[at + 1]) > 0)) {
        return buildView(store, types, filters, sort);
      }
    }
    if (old.status !== next.status) {
      counts = counts || { ...prev.counts };
      counts[old.status] -= 1;
      counts[next.status] = (counts[next.status] || 0) + 1;
    }
    prev.members.set(id, next);
  }
  return {
    ...prev,
    rows: rows || prev.rows,
    counts: counts || prev.counts,
    version: store.version,
  };
}
