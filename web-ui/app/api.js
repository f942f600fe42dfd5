// The REST client: JSON in and out, the session's CSRF token echoed on mutating requests, and one
// error type carrying the server's SPEC §5 error body.

/** An API error: `status` is the HTTP status (0 = network), `code` the server's error code. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The route does not exist in this build (as opposed to "that item does not exist"). */
  get missingRoute() {
    return this.status === 404 && /^route /.test(this.message);
  }
}

function cookie(name) {
  const prefix = `${name}=`;
  for (const part of document.cookie.split(";")) {
    const p = part.trim();
    if (p.startsWith(prefix)) return decodeURIComponent(p.slice(prefix.length));
  }
  return "";
}

/** Whether the browser holds a session's CSRF cookie (i.e. may be signed in). */
export const hasSessionCookie = () => cookie("pulse_csrf") !== "";

/** Listeners told when a request answers 401 (the session ended). */
const unauthorizedListeners = new Set();
export const onUnauthorized = (fn) => {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
};

/**
 * Sends one request. `body` (if any) is sent as JSON; `headers` are added. Resolves to the parsed
 * JSON reply (or null for an empty one); rejects with ApiError.
 */
export async function request(method, path, body, headers = {}) {
  const h = { Accept: "application/json", ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") {
    const csrf = cookie("pulse_csrf");
    if (csrf) h["X-CSRF-Token"] = csrf;
  }
  let res;
  try {
    res = await fetch(path, {
      method, headers: h, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "network", "The server could not be reached.");
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const message = (data && (data.error || data.message)) || `${res.status} ${res.statusText}`;
    const err = new ApiError(res.status, (data && data.code) || "http_error", message, data && data.details);
    if (res.status === 401 && path !== "/api/login") unauthorizedListeners.forEach((fn) => fn());
    throw err;
  }
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);
export const put = (path, body) => request("PUT", path, body);
export const del = (path) => request("DELETE", path);

/** A readable one-line message for an error, with the field when the server named one. */
export function describe(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  const field = err.details && (err.details.field || err.details.key);
  return field && !err.message.includes(field) ? `${field}: ${err.message}` : err.message;
}
