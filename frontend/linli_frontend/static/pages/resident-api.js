// What the resident pages share: REST calls that keep the hub's message, whether an
// integration is installed, and small pieces of page (sections, "not available", times).

import { SessionExpired } from "../auth.js";
import { h } from "../dom.js";
import { formatTime, t } from "../i18n.js";

/** A REST call the hub answered with an error status; message is the hub's own words. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.hubMessage = message || "";
  }

  /** The integration behind the URL is not installed (no route) or not set up. */
  get unavailable() {
    return this.status === 404 || this.status === 503;
  }
}

/**
 * Call the REST API with the session's access token (renewed once on 401). Resolves with the
 * JSON answer; rejects with ApiError (status and the hub's "message") or SessionExpired.
 */
export async function api(ctx, method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  for (const force of [false, true]) {
    const token = await ctx.session.accessToken({ force });
    const response = await fetch(path, {
      method,
      headers: { ...headers, Authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    if (response.status === 401) continue;
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data?.message);
    return data;
  }
  ctx.session.forget();
  throw new SessionExpired();
}

/** The integrations the hub has loaded (asked once per page; empty when it cannot tell). */
export async function installed(ctx) {
  try {
    const config = await ctx.connection.command("get_config");
    return new Set(config.components || []);
  } catch {
    return new Set();
  }
}

/** The user's household id (from their person), or null. */
export async function ownHousehold(ctx) {
  const households = await ctx.connection.command("linli/households/list");
  return households.length ? households[0].id : null;
}

/** A card section with a heading; returns [section, body] so content can follow later. */
export function section(id, title, ...intro) {
  const body = h("div", { class: "stack", id: `${id}-body`, "aria-busy": "true" });
  const node = h(
    "section",
    { class: "card", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    ...intro,
    body,
  );
  return [node, body];
}

/** Fill a section body and mark it loaded. */
export function fill(body, ...children) {
  body.replaceChildren(...children.flat().filter(Boolean));
  body.removeAttribute("aria-busy");
}

/** What to show when a feature's integration is missing. */
export function unavailable(what) {
  return h("p", { class: "notice resident-unavailable" }, t("resident.unavailable", { what }));
}

/** What to show when loading failed for another reason. */
export function failed() {
  return h("p", { class: "form-error", role: "alert" }, t("app.load_failed"));
}

/** Seconds since the epoch, for people. */
export function formatEpoch(seconds) {
  return seconds === null || seconds === undefined
    ? ""
    : formatTime(new Date(seconds * 1000).toISOString());
}

/** A <time> element for an ISO time or epoch seconds. */
export function timeNode(value) {
  if (value === null || value === undefined || value === "") return "";
  const iso = typeof value === "number" ? new Date(value * 1000).toISOString() : value;
  return h("time", { datetime: iso }, formatTime(iso));
}

/** A translated word for a code, or the code itself when the catalogue has none. */
export function word(prefix, code) {
  if (code === null || code === undefined || code === "") return "";
  const key = `${prefix}.${code}`;
  const text = t(key);
  return text === key ? String(code) : text;
}
