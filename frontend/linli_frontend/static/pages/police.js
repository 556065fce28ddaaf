// Police: the alerts in their scope, read-only, searched by time and area.

import { alertCard, CardList } from "../alert-card.js";
import { h } from "../dom.js";
import { areaName, t } from "../i18n.js";

export async function renderPolice(main, ctx) {
  const from = h("input", { id: "filter-from", type: "datetime-local", name: "from" });
  const until = h("input", { id: "filter-until", type: "datetime-local", name: "until" });
  const area = h("select", { id: "filter-area", name: "area" }, h("option", { value: "" }, t("police.all_areas")));
  const result = h("p", { id: "police-result", role: "status", class: "muted" });
  const list = h("div", { class: "alert-list", id: "police-list" });
  const cards = new CardList(list, (alert, urls) => alertCard(ctx, alert, { areas, urls }));
  let areas = new Map();

  async function search(event) {
    event?.preventDefault();
    const query = {};
    if (from.value) query.since = new Date(from.value).toISOString();
    if (area.value) query.area_id = area.value;
    const end = until.value ? new Date(until.value).toISOString() : null;
    result.textContent = t("police.searching");
    try {
      const alerts = await ctx.connection.command("linli/alerts/list", query);
      const shown = alerts
        .filter((alert) => !end || alert.created_at <= end)
        .sort((a, b) => b.created_at.localeCompare(a.created_at));
      cards.update(shown);
      result.textContent = t("police.count", { count: shown.length });
    } catch {
      result.textContent = t("app.load_failed");
    }
  }

  main.append(
    h("h1", {}, t("police.title")),
    h("p", { class: "lead" }, t("police.lead")),
    h(
      "form",
      { class: "filters card", onsubmit: search, role: "search", "aria-label": t("police.filters") },
      h("div", { class: "field" }, h("label", { for: "filter-from" }, t("police.from")), from),
      h("div", { class: "field" }, h("label", { for: "filter-until" }, t("police.until")), until),
      h("div", { class: "field" }, h("label", { for: "filter-area" }, t("police.area")), area),
      h("button", { type: "submit", class: "button-primary" }, t("police.search")),
    ),
    result,
    list,
  );

  try {
    areas = await ctx.areaIndex();
    for (const entry of areas.values()) {
      area.append(h("option", { value: entry.area_id }, areaName(entry)));
    }
  } catch {
    result.textContent = t("app.load_failed");
    return () => cards.clear();
  }
  await search();
  return () => cards.clear();
}
