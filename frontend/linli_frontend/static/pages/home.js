// Each role's home: what the user is responsible for, and where to go next.

import { h } from "../dom.js";
import { areaName, t } from "../i18n.js";
import { latestNotices } from "./notices.js";

async function areaList(ctx) {
  const areas = [...(await ctx.areaIndex()).values()].filter((area) => area.kind !== "community");
  const ids = new Set(ctx.user.area_ids);
  const top = ctx.user.area_ids.length ? areas.filter((area) => ids.has(area.area_id)) : [];
  return h(
    "section",
    { class: "card", "aria-labelledby": "areas-title" },
    h("h2", { id: "areas-title" }, t("home.areas")),
    top.length
      ? h("ul", { class: "plain" }, top.map((area) => h("li", {}, areaName(area))))
      : h("p", {}, t("home.areas_all")),
  );
}

async function openAlerts(ctx) {
  const alerts = await ctx.connection.command("linli/alerts/list", {
    state: ["new", "acknowledged"],
  });
  const fresh = alerts.filter((alert) => alert.state === "new").length;
  return h(
    "section",
    { class: "card", "aria-labelledby": "open-title" },
    h("h2", { id: "open-title" }, t("home.open_alerts")),
    h(
      "p",
      { class: "big-number", id: "open-count" },
      t("home.open_count", { count: alerts.length, fresh }),
    ),
    h("a", { href: "#/alerts", class: "button-primary" }, t("home.to_board")),
  );
}

async function household(ctx) {
  const households = await ctx.connection.command("linli/households/list");
  return h(
    "section",
    { class: "card", "aria-labelledby": "household-title" },
    h("h2", { id: "household-title" }, t("home.household")),
    households.length
      ? h(
          "ul",
          { class: "plain" },
          households.map((item) =>
            h(
              "li",
              {},
              h("strong", {}, item.name),
              " · ",
              t("home.members", { count: item.member_count }),
            ),
          ),
        )
      : h("p", {}, t("home.no_household")),
  );
}

function police() {
  return h(
    "section",
    { class: "card", "aria-labelledby": "police-title" },
    h("h2", { id: "police-title" }, t("home.police_title")),
    h("p", {}, t("home.police_text")),
    h("a", { href: "#/police", class: "button-primary" }, t("home.to_police")),
  );
}

export async function renderHome(main, ctx) {
  const { role, name } = ctx.user;
  main.append(
    h("h1", {}, t("home.title", { name })),
    h("p", { class: "lead" }, t(`home.lead.${role}`)),
  );
  const grid = h("div", { class: "grid", "aria-busy": "true" });
  main.append(grid);
  try {
    const sections = [];
    if (role === "resident") sections.push(await household(ctx));
    if (role === "resident") sections.push(await latestNotices(ctx));
    if (["admin", "staff", "grid_worker"].includes(role)) sections.push(await openAlerts(ctx));
    if (role === "police" || role === "admin") sections.push(police());
    if (role !== "resident") sections.push(await areaList(ctx));
    grid.append(...sections);
  } catch {
    grid.append(h("p", { class: "form-error", role: "alert" }, t("app.load_failed")));
  }
  grid.removeAttribute("aria-busy");
}
