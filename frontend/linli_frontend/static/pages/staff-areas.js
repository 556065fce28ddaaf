// The area tree of staff and grid workers: what is wrong where. Each area shows the open
// alerts and the unavailable entities in it and below it; its entities link to their history.

import { h } from "../dom.js";
import { areaName, t } from "../i18n.js";
import { entityItem, loadScope, UNAVAILABLE } from "./staff-data.js";

function counter(kind, count) {
  return h(
    "span",
    { class: count ? `badge ${kind === "alerts" ? "badge-warning" : "badge-critical"}` : "badge badge-ok", "data-count": kind },
    t(`staff.count.${kind}`, { count }),
  );
}

export async function renderAreas(main, ctx) {
  main.append(h("h1", {}, t("staff.areas.title")), h("p", { class: "lead" }, t("staff.areas.lead")));
  const status = h("p", { role: "status", class: "muted", id: "areas-status" }, t("app.loading"));
  main.append(status);
  let scope;
  try {
    scope = await loadScope(ctx);
  } catch {
    status.textContent = t("app.load_failed");
    return;
  }
  const { areas, entities, alerts } = scope;
  const children = new Map();
  const roots = [];
  for (const area of areas.values()) {
    if (area.parent_id && areas.has(area.parent_id)) {
      if (!children.has(area.parent_id)) children.set(area.parent_id, []);
      children.get(area.parent_id).push(area);
    } else {
      roots.push(area);
    }
  }
  const own = new Map([...areas.keys()].map((id) => [id, { alerts: 0, down: 0, entities: [] }]));
  const outside = { alerts: 0, down: 0, entities: [] };
  const bucket = (areaId) => own.get(areaId) || outside;
  for (const alert of alerts) bucket(alert.area_id).alerts += 1;
  for (const entity of entities) {
    const counts = bucket(entity.area_id);
    counts.entities.push(entity);
    if (entity.state === UNAVAILABLE) counts.down += 1;
  }
  const totals = new Map();
  function total(area) {
    const mine = own.get(area.area_id);
    const sum = { alerts: mine.alerts, down: mine.down };
    for (const child of children.get(area.area_id) || []) {
      const below = total(child);
      sum.alerts += below.alerts;
      sum.down += below.down;
    }
    totals.set(area.area_id, sum);
    return sum;
  }
  roots.forEach(total);

  const byName = (a, b) => areaName(a).localeCompare(areaName(b), undefined, { numeric: true });

  function entityBlock(list) {
    if (!list.length) return null;
    const down = list.filter((entity) => entity.state === UNAVAILABLE);
    const fine = list.filter((entity) => entity.state !== UNAVAILABLE);
    return [
      down.length ? h("ul", { class: "plain entity-list" }, down.map(entityItem)) : null,
      fine.length
        ? h(
            "details",
            { class: "entity-more" },
            h("summary", {}, t("staff.areas.entities", { count: fine.length })),
            h("ul", { class: "plain entity-list" }, fine.map(entityItem)),
          )
        : null,
    ];
  }

  function node(area) {
    const sum = totals.get(area.area_id);
    const nested = (children.get(area.area_id) || []).sort(byName);
    const headingId = `area-${area.area_id}`;
    return h(
      "li",
      {
        class: sum.alerts || sum.down ? "area area-trouble" : "area",
        "data-area-id": area.area_id,
        "aria-labelledby": headingId,
      },
      h(
        "div",
        { class: "area-row" },
        h("span", { class: "area-name", id: headingId }, areaName(area)),
        h("span", { class: "meta" }, t(`staff.kind.${area.kind}`)),
        counter("alerts", sum.alerts),
        counter("down", sum.down),
        sum.alerts ? h("a", { href: "#/alerts", class: "area-link" }, t("staff.areas.to_board")) : null,
      ),
      entityBlock(own.get(area.area_id).entities),
      nested.length ? h("ul", { class: "area-tree" }, nested.map(node)) : null,
    );
  }

  const tree = h("ul", { class: "area-tree area-root", id: "area-tree" }, roots.sort(byName).map(node));
  const sums = [...roots].reduce(
    (acc, area) => ({
      alerts: acc.alerts + totals.get(area.area_id).alerts,
      down: acc.down + totals.get(area.area_id).down,
    }),
    { alerts: outside.alerts, down: outside.down },
  );
  status.textContent = t("staff.areas.summary", { alerts: sums.alerts, down: sums.down });
  main.append(tree);
  if (outside.entities.length || outside.alerts) {
    main.append(
      h(
        "section",
        { class: "card", "aria-labelledby": "area-none-title", id: "area-none" },
        h("h2", { id: "area-none-title" }, t("staff.areas.no_area")),
        h("p", {}, counter("alerts", outside.alerts), " ", counter("down", outside.down)),
        entityBlock(outside.entities),
      ),
    );
  }
}
