// One alert as a card: what, how bad, where, when, the evidence, and (on the board) actions.

import { assignControls, assigneeLabel } from "./assign.js";
import { h, uid } from "./dom.js";
import { areaName, formatTime, t } from "./i18n.js";

const IMAGE_KINDS = new Set(["snapshot", "url"]);

/** Whether an evidence reference is a picture served by this hub (never another host). */
export function hubImagePath(item) {
  if (!IMAGE_KINDS.has(item.kind)) return null;
  const ref = item.ref;
  if (typeof ref !== "string" || !ref.startsWith("/") || ref.startsWith("//")) return null;
  return ref;
}

async function showImage(ctx, path, figure, alert, urls) {
  try {
    const response = await ctx.session.fetch(path);
    const blob = await response.blob();
    if (!blob.type.startsWith("image/")) throw new Error("not an image");
    const url = URL.createObjectURL(blob);
    urls.push(url);
    figure.prepend(
      h("img", { src: url, alt: t("alert.evidence_alt", { title: alert.title }), loading: "lazy" }),
    );
  } catch {
    figure.prepend(h("p", { class: "muted" }, t("alert.evidence_missing")));
  }
}

function evidence(ctx, alert, urls) {
  if (!alert.evidence?.length) return null;
  return alert.evidence.map((item) => {
    const path = hubImagePath(item);
    if (path) {
      const figure = h(
        "figure",
        { class: "evidence" },
        h("figcaption", {}, t("alert.evidence"), item.captured_at ? ` · ${formatTime(item.captured_at)}` : ""),
      );
      showImage(ctx, path, figure, alert, urls);
      return figure;
    }
    return h("p", { class: "evidence-ref" }, `${t("alert.evidence")}: ${t(`evidence.${item.kind}`)} ${item.ref}`);
  });
}

function actions(ctx, alert, assign) {
  const note = uid("note");
  const error = h("p", { class: "form-error", role: "alert" });
  const run = async (type, data, button) => {
    error.textContent = "";
    button.disabled = true;
    try {
      await ctx.connection.command(type, { alert_id: alert.id, ...data });
    } catch (failure) {
      button.disabled = false;
      error.textContent = t(failure?.code === "unauthorized" ? "alert.not_allowed" : "alert.action_failed");
    }
  };
  const acknowledge =
    alert.state === "new"
      ? h(
          "button",
          {
            type: "button",
            class: "button-primary",
            "data-action": "acknowledge",
            onclick: (event) => run("linli/alerts/acknowledge", {}, event.currentTarget),
          },
          t("alert.acknowledge"),
        )
      : null;
  const textarea = h("textarea", { id: note, rows: "2", maxlength: "2000" });
  const confirm = h(
    "button",
    { type: "submit", class: "button-primary", "data-action": "confirm-resolve" },
    t("alert.resolve_confirm"),
  );
  const form = h(
    "form",
    {
      class: "resolve-form stack",
      hidden: true,
      onsubmit: (event) => {
        event.preventDefault();
        const text = textarea.value.trim();
        run("linli/alerts/resolve", text ? { note: text } : {}, confirm);
      },
    },
    h("label", { for: note }, t("alert.note")),
    textarea,
    h(
      "div",
      { class: "row" },
      confirm,
      h(
        "button",
        {
          type: "button",
          class: "button-quiet",
          onclick: () => {
            form.hidden = true;
            open.hidden = false;
            open.focus();
          },
        },
        t("alert.cancel"),
      ),
    ),
  );
  const open = h(
    "button",
    {
      type: "button",
      class: "button-secondary",
      "data-action": "resolve",
      onclick: () => {
        form.hidden = false;
        open.hidden = true;
        textarea.focus();
      },
    },
    t("alert.resolve"),
  );
  const assigning = assign ? assignControls(ctx, alert, assign.people || [], run) : null;
  return [h("div", { class: "row actions" }, acknowledge, open, assigning?.open), form, assigning?.form, error];
}

/**
 * Render an alert. options: {manage: show acknowledge/resolve, assign: null, or {people}
 * to offer assigning (roles, and those people by name), areas: Map of area entries, urls: list
 * collecting object URLs to revoke later}.
 */
export function alertCard(
  ctx,
  alert,
  { manage = false, assign = null, areas = new Map(), urls = [] } = {},
) {
  const titleId = uid("alert-title");
  const resolvedNote = alert.state === "resolved" ? lastNote(alert) : null;
  return h(
    "article",
    {
      class: `alert-card severity-${alert.severity} state-${alert.state}`,
      "aria-labelledby": titleId,
      "data-alert-id": alert.id,
    },
    h(
      "div",
      { class: "alert-head" },
      h("span", { class: `badge badge-${alert.severity}` }, t(`severity.${alert.severity}`)),
      h("span", { class: `badge badge-state-${alert.state}`, "data-state": alert.state }, t(`state.${alert.state}`)),
    ),
    h("h3", { id: titleId }, alert.title),
    h(
      "p",
      { class: "meta" },
      alert.area_id ? h("span", { class: "area" }, areaName(areas.get(alert.area_id)) || alert.area_id) : t("alert.no_area"),
      " · ",
      h("time", { datetime: alert.created_at }, formatTime(alert.created_at)),
      alert.occurrences > 1 ? ` · ${t("alert.occurrences", { count: alert.occurrences })}` : null,
    ),
    alert.message ? h("p", { class: "message" }, alert.message) : null,
    alert.assignee
      ? h(
          "p",
          { class: "assignee", "data-assignee": alert.assignee },
          t("board.assign.assigned_to", { who: assigneeLabel(ctx, alert.assignee, assign?.people) }),
        )
      : null,
    evidence(ctx, alert, urls),
    resolvedNote ? h("p", { class: "note" }, `${t("alert.note")}: ${resolvedNote}`) : null,
    manage && (alert.state === "new" || alert.state === "acknowledged") ? actions(ctx, alert, assign) : null,
  );
}

function lastNote(alert) {
  const entries = (alert.history || []).filter((entry) => entry.note);
  return entries.length ? entries[entries.length - 1].note : null;
}

/**
 * Keeps a container's cards in the order given, re-rendering only alerts that changed, so
 * a note being typed or a picture already loaded survives other alerts arriving.
 */
export class CardList {
  constructor(container, render) {
    this.container = container;
    this.render = render;
    this.cards = new Map();
  }

  update(alerts) {
    const focusedId = document.activeElement?.closest?.("[data-alert-id]")?.dataset.alertId;
    const keep = new Map();
    const nodes = alerts.map((alert) => {
      const stamp = `${alert.updated_at}|${alert.state}|${alert.occurrences}|${alert.assignee}|${alert.history?.length}`;
      let card = this.cards.get(alert.id);
      if (!card || card.stamp !== stamp) {
        const urls = [];
        card = { stamp, urls, node: this.render(alert, urls) };
      }
      keep.set(alert.id, card);
      return card.node;
    });
    for (const [id, card] of this.cards) {
      if (keep.get(id) !== card) revoke(card);
    }
    this.cards = keep;
    nodes.forEach((node, index) => {
      const current = this.container.children[index];
      if (current !== node) this.container.insertBefore(node, current || null);
    });
    while (this.container.children.length > nodes.length) {
      this.container.lastElementChild.remove();
    }
    if (focusedId && !this.container.contains(document.activeElement)) {
      const card = this.cards.get(focusedId);
      return card ? card.node.querySelector("button") || card.node : null;
    }
    return null;
  }

  clear() {
    for (const card of this.cards.values()) revoke(card);
    this.cards.clear();
    this.container.replaceChildren();
  }
}

function revoke(card) {
  for (const url of card.urls.splice(0)) URL.revokeObjectURL(url);
}
