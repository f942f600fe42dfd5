// Time-series charts with uPlot (vendored, loaded on the first chart). Series share one time axis
// (seconds); values may be null (gaps).

import { html, useEffect, useRef, useState } from "../html.js";
import { bytes, percent } from "../format.js";

let loading = null;

/** Loads uPlot once; resolves to the uPlot constructor. */
export function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/vendor/uplot-1.6.32.iife.min.js";
      s.onload = () => resolve(window.uPlot);
      s.onerror = () => { loading = null; reject(new Error("the chart library could not be loaded")); };
      document.head.append(s);
    });
  }
  return loading;
}

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/**
 * Props: title, data [xs, ...ys] (aligned, xs in seconds), series [{label, color (CSS var name)}],
 * unit "percent" | "rate".
 */
export function Chart({ title, data, series, unit }) {
  const box = useRef(null);
  const [failed, setFailed] = useState("");
  useEffect(() => {
    let plot = null;
    let live = true;
    let ro = null;
    loadUPlot().then((UPlot) => {
      if (!live || !box.current) return;
      const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--grid"), width: 1 }, ticks: { show: false } };
      const fmt = unit === "percent" ? (v) => (v === null || v === undefined ? "—" : percent(v)) : (v) => (v === null || v === undefined ? "—" : `${bytes(v)}/s`);
      const opts = {
        width: box.current.clientWidth || 320,
        height: 150,
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        scales: unit === "percent" ? { y: { range: [0, 100] } } : {},
        axes: [axis, { ...axis, size: 58, values: (u, vals) => vals.map((v) => (unit === "percent" ? `${v}%` : bytes(v))) }],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: cssVar(s.color), width: 1.5, value: (u, v) => fmt(v), spanGaps: false }))],
      };
      plot = new UPlot(opts, data, box.current);
      ro = new ResizeObserver(() => plot && box.current && plot.setSize({ width: box.current.clientWidth, height: 150 }));
      ro.observe(box.current);
    }, (e) => live && setFailed(e.message));
    return () => { live = false; if (ro) ro.disconnect(); if (plot) plot.destroy(); };
  }, [data, series, unit]);
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    ${failed ? html`<p class="error-text">${failed}</p>` : html`<div ref=${box} class="chart-box" role="img" aria-label=${`${title} chart`}></div>`}
  </figure>`;
}
