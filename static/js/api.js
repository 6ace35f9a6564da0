// Calls to the JSON API. Errors arrive as {error: {code, message, field?}}; a 503 means the
// database is away, which the banner says until a call succeeds again.
import { lang, t } from "./i18n.js";

const offline = document.getElementById("offline");

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.field = error.field;
    this.details = error;
  }
}

export async function api(method, url, body) {
  const options = { method, headers: { Accept: "application/json", "Accept-Language": lang } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError(0, { code: "network", message: t("app.error") });
  }
  offline.hidden = response.status !== 503;
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, data?.error ?? { code: "http", message: response.statusText });
  }
  return data;
}

export const get = (url) => api("GET", url);
