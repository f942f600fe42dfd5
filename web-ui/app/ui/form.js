// Form building blocks: labelled fields, a button that shows it is busy, and a hook for submitting
// to the API with the server's error shown next to the form.

import { html, useState } from "../html.js";
import { describe } from "../api.js";

let fieldSeq = 0;

/** A labelled input. `type` "checkbox" renders a checkbox row; "select" needs `options` [[v, label]]. */
export function Field({ label, name, value, onInput, type = "text", options, hint, required, autocomplete, placeholder, min, max, step }) {
  const [id] = useState(() => `f${(fieldSeq += 1)}`);
  if (type === "checkbox") {
    return html`<label class="check" for=${id}>
      <input id=${id} name=${name} type="checkbox" checked=${!!value} onChange=${(e) => onInput(e.target.checked)} />
      <span>${label}</span>${hint ? html`<small class="muted">${hint}</small>` : null}
    </label>`;
  }
  const common = { id, name, required, "aria-describedby": hint ? `${id}-hint` : undefined };
  let control;
  if (type === "select") {
    control = html`<select ...${common} value=${value} onChange=${(e) => onInput(e.target.value)}>
      ${options.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
    </select>`;
  } else {
    control = html`<input ...${common} type=${type} value=${value ?? ""} autocomplete=${autocomplete}
      placeholder=${placeholder} min=${min} max=${max} step=${step}
      onInput=${(e) => onInput(type === "number" ? (e.target.value === "" ? "" : Number(e.target.value)) : e.target.value)} />`;
  }
  return html`<div class="field">
    <label for=${id}>${label}${required ? html`<span aria-hidden="true" class="req"> *</span>` : null}</label>
    ${control}
    ${hint ? html`<small id=${`${id}-hint`} class="muted">${hint}</small>` : null}
  </div>`;
}

/** A button that is disabled and says so while `busy`. */
export function Button({ busy, children, kind = "", type = "button", onClick, disabled, label }) {
  return html`<button type=${type} class=${`btn ${kind}`} onClick=${onClick} disabled=${busy || disabled}
    aria-busy=${busy ? "true" : "false"} aria-label=${label}>${busy ? "Working…" : children}</button>`;
}

/**
 * Runs async actions one at a time: `{busy, error, run(fn)}`. `run` returns fn's result, or
 * undefined after recording the error (shown with the server's message and field).
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const run = async (fn) => {
    setBusy(true);
    setError("");
    try {
      return await fn();
    } catch (e) {
      setError(describe(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
