// A virtualised table: only the rows in view (plus a small overscan) are in the DOM, so 10,000
// rows scroll as smoothly as 10. Rows are components that re-render only when their resource
// object, selection or position changes. ARIA table roles, sortable column headers, and keyboard
// navigation (arrow keys, Home/End, Enter opens).

import { html, Component, useEffect, useLayoutEffect, useMemo, useRef, useState } from "../html.js";
import { derive } from "../catalog.js";

const OVERSCAN = 6;

/** The lowest column priority still shown at the current width (3: all, 1: essentials). */
function usePriority() {
  const pick = () => (innerWidth > 1100 ? 3 : innerWidth > 760 ? 2 : 1);
  const [p, setP] = useState(pick);
  useEffect(() => {
    const on = () => setP(pick());
    addEventListener("resize", on);
    return () => removeEventListener("resize", on);
  }, []);
  return p;
}

class Row extends Component {
  shouldComponentUpdate(next) {
    const p = this.props;
    return next.r !== p.r || next.index !== p.index || next.selected !== p.selected
      || next.columns !== p.columns || next.ctx !== p.ctx;
  }

  render({ r, index, selected, columns, ctx, onOpen, rowHeight, template }) {
    const d = derive(r);
    return html`<div role="row" class=${`vt-row${selected ? " selected" : ""}`} tabindex="-1"
      aria-rowindex=${index + 2} aria-selected=${selected ? "true" : "false"} data-index=${index} data-id=${r.id}
      style=${{ height: `${rowHeight}px`, gridTemplateColumns: template }}
      onClick=${() => onOpen(r.id)}>
      ${columns.map((c) => html`<div role="cell" class=${`vt-cell ${c.className || ""}`}>${c.cell(r, d, ctx)}</div>`)}
    </div>`;
  }
}

function HeaderCell({ column, sort, onSort }) {
  const active = sort && sort.key === column.sort;
  const ariaSort = active ? (sort.dir === "desc" ? "descending" : "ascending") : "none";
  const cls = `vt-cell vt-head ${column.className || ""}`;
  if (!column.sort) return html`<div role="columnheader" class=${cls}>${column.label}</div>`;
  const next = () => onSort({ key: column.sort, dir: active && sort.dir === "asc" ? "desc" : "asc" });
  return html`<div role="columnheader" class=${cls} aria-sort=${ariaSort}>
    <button type="button" class="sort" onClick=${next}>${column.label}<span class="sort-mark" aria-hidden="true">${active ? (sort.dir === "desc" ? "▼" : "▲") : ""}</span></button>
  </div>`;
}

/**
 * Props: rows, columns [{label, cell(r, derived, ctx), sort?, priority 1|2|3, className, width}],
 * sort {key, dir}, onSort, onOpen(id), selectedId, ctx (passed to cells), label, rowHeight.
 */
export function VirtualTable({ rows, columns: all, sort, onSort, onOpen, selectedId, ctx, label, rowHeight = 46, empty }) {
  const priority = usePriority();
  const columns = useMemo(() => all.filter((c) => (c.priority || 1) <= priority), [all, priority]);
  const scroller = useRef(null);
  const [view, setView] = useState({ top: 0, height: 800 });
  const focusTo = useRef(-1);
  const template = columns.map((c) => c.width || "1fr").join(" ");

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return undefined;
    let frame = 0;
    const measure = () => {
      frame = 0;
      setView((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight }));
    };
    const onScroll = () => { if (!frame) frame = requestAnimationFrame(measure); };
    el.addEventListener("scroll", onScroll, { passive: true });
    const ro = new ResizeObserver(onScroll);
    ro.observe(el);
    measure();
    return () => { el.removeEventListener("scroll", onScroll); ro.disconnect(); cancelAnimationFrame(frame); };
  }, []);

  useEffect(() => {
    if (focusTo.current < 0 || !scroller.current) return;
    const el = scroller.current.querySelector(`[data-index="${focusTo.current}"]`);
    focusTo.current = -1;
    if (el) el.focus({ preventScroll: true });
  });

  const total = rows.length;
  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last = Math.min(total, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);
  const visible = rows.slice(first, last);

  const onKeyDown = (ev) => {
    const at = Number(ev.target && ev.target.dataset ? ev.target.dataset.index : NaN);
    let to = -1;
    if (ev.key === "ArrowDown") to = Number.isNaN(at) ? 0 : at + 1;
    else if (ev.key === "ArrowUp") to = Number.isNaN(at) ? 0 : at - 1;
    else if (ev.key === "Home") to = 0;
    else if (ev.key === "End") to = total - 1;
    else if ((ev.key === "Enter" || ev.key === " ") && !Number.isNaN(at) && rows[at]) {
      ev.preventDefault();
      onOpen(rows[at].id);
      return;
    } else return;
    ev.preventDefault();
    to = Math.max(0, Math.min(total - 1, to));
    const el = scroller.current;
    const y = to * rowHeight;
    if (y < el.scrollTop) el.scrollTop = y;
    else if (y + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = y + rowHeight - el.clientHeight;
    focusTo.current = to;
    setView({ top: el.scrollTop, height: el.clientHeight });
  };

  return html`<div class="vt" role="table" aria-label=${label} aria-rowcount=${total + 1}>
    <div role="rowgroup" class="vt-headgroup">
      <div role="row" class="vt-row vt-header" aria-rowindex="1" style=${{ gridTemplateColumns: template }}>
        ${columns.map((c) => html`<${HeaderCell} column=${c} sort=${sort} onSort=${onSort} />`)}
      </div>
    </div>
    <div class="vt-scroll" ref=${scroller} role="rowgroup" tabindex="0" aria-label=${`${label}: ${total} rows; arrow keys move, Enter opens`} onKeyDown=${onKeyDown}>
      ${total === 0 ? html`<div class="vt-empty">${empty}</div>` : null}
      <div class="vt-space" style=${{ height: `${total * rowHeight}px` }}>
        <div class="vt-window" style=${{ transform: `translateY(${first * rowHeight}px)` }}>
          ${visible.map((r, i) => html`<${Row} key=${r.id} r=${r} index=${first + i} selected=${r.id === selectedId}
            columns=${columns} ctx=${ctx} onOpen=${onOpen} rowHeight=${rowHeight} template=${template} />`)}
        </div>
      </div>
    </div>
  </div>`;
}
