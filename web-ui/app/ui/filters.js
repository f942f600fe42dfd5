// The filter bar of a resource page: search, status summary (doubles as a status filter), source
// badges, kinds and tags. Every control says what it filters, for screen readers too.

import { html } from "../html.js";
import { SOURCES, STATUSES } from "../catalog.js";

function toggle(list, value) {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

function Chip({ pressed, onClick, children, className = "", label }) {
  return html`<button type="button" class=${`chip ${className}${pressed ? " on" : ""}`} aria-pressed=${pressed ? "true" : "false"}
    aria-label=${label} onClick=${onClick}>${children}</button>`;
}

/** Props: filters, onChange(filters), facets {kinds Map, tags Map, sources Set}, counts, total, shown, searchRef. */
export function FilterBar({ filters, onChange, facets, counts, total, shown, searchRef, title }) {
  const set = (patch) => onChange({ ...filters, ...patch });
  const active = filters.q || filters.sources.length || filters.statuses.length || filters.kinds.length || filters.tags.length;
  const kinds = [...facets.kinds.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  const tags = [...facets.tags.keys()].sort();
  const sources = SOURCES.filter(([s]) => facets.sources.has(s));
  return html`<section class="filters" aria-label=${`Filter ${title}`}>
    <div class="filter-row">
      <div class="search">
        <label class="sr-only" for="search">Search ${title}</label>
        <input id="search" ref=${searchRef} type="search" placeholder="Search name, tag, IP, node…  ( / )"
          value=${filters.q} onInput=${(e) => set({ q: e.target.value })} autocomplete="off" />
      </div>
      <div class="chips" role="group" aria-label="Status">
        ${STATUSES.map(([s, word]) => html`<${Chip} pressed=${filters.statuses.includes(s)} className=${`st-${s}`}
          label=${`${word}: ${counts[s] || 0}`} onClick=${() => set({ statuses: toggle(filters.statuses, s) })}>
          <span class="dot" aria-hidden="true"></span>${word}<span class="count">${counts[s] || 0}</span></${Chip}>`)}
      </div>
    </div>
    <div class="filter-row">
      ${sources.length > 0 ? html`<div class="chips" role="group" aria-label="Source">
        <span class="group-label" aria-hidden="true">Source</span>
        ${sources.map(([s, label]) => html`<${Chip} pressed=${filters.sources.includes(s)} className="src-chip" label=${`Source ${label}`}
          onClick=${() => set({ sources: toggle(filters.sources, s) })}><span class=${`src src-${s}`}>${label}</span></${Chip}>`)}
      </div>` : null}
      ${kinds.length > 1 ? html`<div class="chips" role="group" aria-label="Type">
        <span class="group-label" aria-hidden="true">Type</span>
        ${kinds.map(([k, n]) => html`<${Chip} pressed=${filters.kinds.includes(k)} label=${`${k}: ${n}`}
          onClick=${() => set({ kinds: toggle(filters.kinds, k) })}>${k}<span class="count">${n}</span></${Chip}>`)}
      </div>` : null}
      ${tags.length > 0 ? html`<div class="tag-filter">
        <label for="tag-filter">Tag</label>
        <select id="tag-filter" value=${filters.tags[0] || ""} onChange=${(e) => set({ tags: e.target.value ? [e.target.value] : [] })}>
          <option value="">Any tag</option>
          ${tags.map((t) => html`<option value=${t}>${t}</option>`)}
        </select>
      </div>` : null}
      <p class="shown" aria-live="polite">${shown === total ? `${total} shown` : `${shown} of ${total} shown`}</p>
      ${active ? html`<button type="button" class="btn link" onClick=${() => onChange({ q: "", sources: [], statuses: [], kinds: [], tags: [] })}>Clear filters</button>` : null}
    </div>
  </section>`;
}
