// One place that binds htm to Preact, so every component imports the same `html`.
import { h, render, Component, Fragment } from "preact";
import htm from "htm";

export const html = htm.bind(h);
export { h, render, Component, Fragment };
export {
  useState, useEffect, useLayoutEffect, useMemo, useRef, useCallback, useReducer,
} from "preact/hooks";
