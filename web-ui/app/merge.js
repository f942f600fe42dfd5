// RFC 7386 JSON merge-patch. Pure: returns a new value and never mutates its inputs; members the
// patch does not touch keep their identity, so unchanged sub-objects stay `===` (cheap re-render
// checks).

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** Applies `patch` to `target` as RFC 7386 specifies. */
export function mergePatch(target, patch) {
  if (!isObject(patch)) return patch;
  const out = isObject(target) ? { ...target } : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}
