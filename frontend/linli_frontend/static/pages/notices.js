// Community notices: everyone reads those addressed to them, updated live; staff, grid
// workers and admins publish one for areas in their scope and withdraw it.

import { h, uid } from "../dom.js";
import { areaName, t } from "../i18n.js";
import { timeNode } from "./resident-api.js";

const PUBLISHERS = ["admin", "staff", "grid_worker"];
const MAX_TITLE = 200;
const MAX_BODY = 4000;
const LISTED_KINDS = ["building", "unit", "floor", "zone"];

/** Where a notice applies, for people. */
function placeText(notice, areas) {
  if (!notice.area_ids.length) return t("notices.everyone");
  const named = new Map((notice.areas || []).map((area) => [area.area_id, area]));
  return notice.area_ids
    .map((id) => areaName(areas.get(id) || named.get(id) || { area_id: id }))
    .join(t("notices.separator"));
}

/** One notice as an article; ``onWithdraw`` adds a withdraw button. */
export function noticeCard(notice, areas, onWithdraw) {
  const titleId = uid("notice-title");
  return h(
    "article",
    { class: "notice-item", "data-notice-id": notice.id, "aria-labelledby": titleId },
    h("h3", { id: titleId }, notice.title),
    h(
      "p",
      { class: "muted notice-meta" },
      timeNode(notice.published_at),
      " · ",
      placeText(notice, areas),
      notice.expires_at ? [" · ", t("notices.until"), " ", timeNode(notice.expires_at)] : null,
    ),
    h("p", { class: "notice-body" }, notice.body),
    onWithdraw
      ? h(
          "div",
          { class: "row" },
          h(
            "button",
            {
              type: "button",
              class: "button-secondary notice-withdraw",
              "aria-describedby": titleId,
              onclick: (event) => onWithdraw(notice, event.currentTarget),
            },
            t("notices.withdraw"),
          ),
        )
      : null,
  );
}

/** The areas a publisher may pick: buildings, units, floors and zones in their scope. */
function choosableAreas(ctx, areas) {
  const roots = new Set(ctx.user.area_ids || []);
  const all = [...areas.values()];
  const community = all.find((area) => area.kind === "community");
  const wholeCommunity =
    ctx.user.role === "admin" || (community && roots.has(community.area_id));
  const inScope = (area) => {
    if (wholeCommunity) return true;
    for (let id = area.area_id; id; id = areas.get(id)?.parent_id) {
      if (roots.has(id)) return true;
    }
    return false;
  };
  return {
    wholeCommunity,
    list: all.filter((area) => LISTED_KINDS.includes(area.kind) && inScope(area)),
  };
}

function publishForm(ctx, areas) {
  const { wholeCommunity, list } = choosableAreas(ctx, areas);
  const title = h("input", {
    id: "notice-title",
    name: "title",
    required: true,
    maxlength: MAX_TITLE,
    autocomplete: "off",
  });
  const counter = h("span", { class: "muted", id: "notice-body-count", "aria-live": "off" });
  const body = h("textarea", {
    id: "notice-body",
    name: "body",
    required: true,
    rows: 5,
    maxlength: MAX_BODY,
    "aria-describedby": "notice-body-count",
  });
  const count = () => {
    counter.textContent = t("notices.count", { count: body.value.length, max: MAX_BODY });
  };
  body.addEventListener("input", count);
  count();
  const boxes = list.map((area) =>
    h(
      "label",
      { class: "notice-area" },
      h("input", { type: "checkbox", name: "area", value: area.area_id }),
      " ",
      areaName(area),
    ),
  );
  const error = h("p", { class: "form-error", id: "notice-error", role: "alert" });
  const form = h(
    "form",
    { class: "card stack", id: "notice-form", novalidate: true, "aria-labelledby": "notice-form-title" },
    h("h2", { id: "notice-form-title" }, t("notices.new")),
    h("div", { class: "field" }, h("label", { for: "notice-title" }, t("notices.field.title")), title),
    h(
      "div",
      { class: "field" },
      h("label", { for: "notice-body" }, t("notices.field.body")),
      body,
      counter,
    ),
    h(
      "fieldset",
      { class: "field notice-areas", "aria-describedby": "notice-areas-hint" },
      h("legend", {}, t("notices.field.areas")),
      h(
        "span",
        { class: "muted", id: "notice-areas-hint" },
        t(wholeCommunity ? "notices.areas_hint_all" : "notices.areas_hint"),
      ),
      boxes,
    ),
    error,
    h("div", { class: "row" }, h("button", { type: "submit", class: "button-primary" }, t("notices.publish"))),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    for (const input of [title, body]) input.removeAttribute("aria-invalid");
    const areaIds = boxes.map((box) => box.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const problem = !title.value.trim()
      ? [title, "notices.error.title"]
      : !body.value.trim()
        ? [body, "notices.error.body"]
        : !areaIds.length && !wholeCommunity
          ? [boxes[0]?.querySelector("input"), "notices.error.areas"]
          : null;
    if (problem) {
      const [field, key] = problem;
      error.textContent = t(key);
      if (field) {
        if (field !== boxes[0]?.querySelector("input")) {
          field.setAttribute("aria-invalid", "true");
          field.setAttribute("aria-errormessage", "notice-error");
        }
        field.focus();
      }
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      await ctx.connection.command("linli/notices/publish", {
        title: title.value,
        body: body.value,
        area_ids: areaIds,
      });
      form.reset();
      count();
      ctx.announce(t("notices.published"));
    } catch (err) {
      error.textContent =
        err?.code === "unauthorized"
          ? t("notices.error.scope")
          : t("notices.error.hub", { message: err?.message || "" });
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function renderNotices(main, ctx) {
  main.append(h("h1", {}, t("notices.title")), h("p", { class: "lead" }, t("notices.lead")));
  const publisher = PUBLISHERS.includes(ctx.user.role);
  const list = h("div", { class: "stack", id: "notices-body", "aria-busy": "true" });
  const listSection = h(
    "section",
    { class: "card", id: "notices", "aria-labelledby": "notices-list-title" },
    h("h2", { id: "notices-list-title" }, t("notices.list")),
    list,
  );
  const grid = h("div", { class: "grid" });
  main.append(grid);

  let areas = new Map();
  try {
    areas = await ctx.areaIndex();
  } catch {
    // Names fall back to ids.
  }
  if (publisher) grid.append(publishForm(ctx, areas));
  grid.append(listSection);

  async function withdraw(notice, button) {
    button.disabled = true;
    try {
      await ctx.connection.command("linli/notices/withdraw", { notice_id: notice.id });
      ctx.announce(t("notices.withdrawn", { title: notice.title }));
    } catch {
      ctx.announce(t("notices.error.withdraw"));
      button.disabled = false;
    }
  }

  let known = null;
  function show(notices) {
    list.replaceChildren(
      ...(notices.length
        ? notices.map((notice) => noticeCard(notice, areas, publisher ? withdraw : null))
        : [h("p", { class: "muted", id: "notices-empty" }, t("notices.none"))]),
    );
    list.removeAttribute("aria-busy");
    if (known) {
      const fresh = notices.filter((notice) => !known.has(notice.id));
      if (fresh.length) ctx.announce(t("notices.arrived", { title: fresh[0].title }));
    }
    known = new Set(notices.map((notice) => notice.id));
  }

  let stop = null;
  try {
    stop = await ctx.connection.subscribe({ type: "linli/notices/subscribe" }, (event) =>
      show(event.notices),
    );
  } catch {
    list.replaceChildren(h("p", { class: "form-error", role: "alert" }, t("app.load_failed")));
    list.removeAttribute("aria-busy");
  }
  return () => stop?.();
}

/** The newest notices for a home page card (null when there are none to show). */
export async function latestNotices(ctx, count = 3) {
  const notices = await ctx.connection.command("linli/notices/list");
  const areas = await ctx.areaIndex().catch(() => new Map());
  return h(
    "section",
    { class: "card", id: "home-notices", "aria-labelledby": "home-notices-title" },
    h("h2", { id: "home-notices-title" }, t("notices.latest")),
    notices.length
      ? h(
          "ul",
          { class: "plain stack" },
          notices.slice(0, count).map((notice) =>
            h(
              "li",
              {},
              h("strong", {}, notice.title),
              h("br"),
              h("span", { class: "muted" }, timeNode(notice.published_at), " · ", placeText(notice, areas)),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("notices.none")),
    h("a", { href: "#/notices", class: "button-secondary" }, t("notices.all")),
  );
}
