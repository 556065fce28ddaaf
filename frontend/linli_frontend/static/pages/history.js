// History pictures: a line chart of a numeric sensor's last day, or a timeline of an entity's
// states, from /api/history (the hub decides which entities the user may read).

import { isMissing, isNumeric, lineChart, stateSlot, timeline } from "../chart.js";
import { h, uid } from "../dom.js";
import { currentLanguage, formatTime, t } from "../i18n.js";

const DAY_MS = 24 * 3600 * 1000;
const LIST_LIMIT = 50;

/** The entity asked for in the route (#/history?entity=sensor.x). */
function wantedEntity() {
  const query = location.hash.split("?")[1] || "";
  return new URLSearchParams(query).get("entity") || "";
}

/** The link to an entity's history. */
export function historyHref(entityId) {
  return `#/history?entity=${encodeURIComponent(entityId)}`;
}

function stateText(state) {
  return isMissing(state) ? t(`history.state.${state}`) : state;
}

/**
 * The period shown: from the first row (the hub clips the state at the period's start to it)
 * to a day later, or to now when that is sooner. The browser's clock stands in for the
 * hub's; the last change is always shown.
 */
function period(rows) {
  const start = Date.parse(rows[0].last_updated || rows[0].last_changed);
  const last = Date.parse(rows[rows.length - 1].last_updated || rows[rows.length - 1].last_changed);
  return { start, end: Math.max(last, Math.min(Date.now(), start + DAY_MS)) };
}

function changedAt(row) {
  return Date.parse(row.last_changed || row.last_updated);
}

function picture(rows, name) {
  const language = currentLanguage();
  const { start, end } = period(rows);
  const known = rows.filter((row) => !isMissing(row.state));
  const unit = rows[rows.length - 1].attributes?.unit_of_measurement || "";
  if (known.length && known.every((row) => isNumeric(row.state))) {
    const points = rows.map((row) => ({
      t: Math.max(changedAt(row), start),
      v: isNumeric(row.state) ? Number(row.state) : null,
    }));
    const values = points.filter((point) => point.v !== null).map((point) => point.v);
    const summary = t("history.line_summary", {
      name,
      min: Math.min(...values),
      max: Math.max(...values),
      last: values[values.length - 1],
      unit,
    });
    return {
      kind: "line",
      chart: lineChart(points, { label: summary, start, end, unit, language }),
      summary,
      legend: null,
    };
  }
  const spans = rows.map((row, index) => ({
    from: Math.max(changedAt(row), start),
    to: index + 1 < rows.length ? changedAt(rows[index + 1]) : end,
    state: row.state,
    text: stateText(row.state),
  }));
  const { svg, order } = timeline(spans, {
    label: t("history.timeline_summary", { name, count: rows.length }),
    start,
    end,
    language,
  });
  const shown = [...new Set(spans.map((item) => item.state))];
  const legend = h(
    "ul",
    { class: "chart-legend", "aria-label": t("history.legend") },
    shown.map((state) =>
      h(
        "li",
        {},
        h("span", { class: `swatch swatch-${stateSlot(state, order)}`, "aria-hidden": "true" }),
        stateText(state),
      ),
    ),
  );
  return {
    kind: "timeline",
    chart: svg,
    summary: t("history.timeline_summary", { name, count: rows.length }),
    legend,
  };
}

function changeList(rows, unit) {
  const recent = rows.slice(-LIST_LIMIT).reverse();
  return h(
    "details",
    { class: "history-changes" },
    h("summary", {}, t("history.changes", { count: rows.length })),
    h(
      "table",
      { class: "data-table", id: "history-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("history.when")), h("th", { scope: "col" }, t("history.value")))),
      h(
        "tbody",
        {},
        recent.map((row) =>
          h(
            "tr",
            {},
            h("td", {}, formatTime(row.last_changed || row.last_updated)),
            h("td", {}, isNumeric(row.state) && unit ? `${row.state} ${unit}` : stateText(row.state)),
          ),
        ),
      ),
    ),
  );
}

export async function renderHistory(main, ctx) {
  const wanted = wantedEntity();
  const selectId = uid("history-entity");
  const select = h("select", { id: selectId, name: "entity" });
  const status = h("p", { id: "history-status", role: "status", class: "muted" });
  const output = h("section", { id: "history-output", "aria-live": "polite" });

  main.append(
    h("h1", {}, t("history.title")),
    h("p", { class: "lead" }, t("history.lead")),
    h(
      "form",
      {
        class: "filters card",
        onsubmit: (event) => {
          event.preventDefault();
          if (select.value) location.hash = historyHref(select.value).slice(1);
        },
      },
      h("div", { class: "field" }, h("label", { for: selectId }, t("history.entity")), select),
      h("button", { type: "submit", class: "button-primary" }, t("history.show")),
    ),
    status,
    output,
  );

  let states;
  try {
    states = await ctx.connection.command("get_states");
  } catch {
    status.textContent = t("app.load_failed");
    return;
  }
  const names = new Map(states.map((state) => [state.entity_id, state.attributes?.friendly_name || state.entity_id]));
  select.append(h("option", { value: "" }, t("history.choose")));
  for (const state of [...states].sort((a, b) => a.entity_id.localeCompare(b.entity_id))) {
    select.append(h("option", { value: state.entity_id }, `${names.get(state.entity_id)} (${state.entity_id})`));
  }
  if (!wanted) {
    status.textContent = t("history.pick");
    return;
  }
  select.value = names.has(wanted) ? wanted : "";
  const name = names.get(wanted) || wanted;
  status.textContent = t("history.loading");
  let rows;
  try {
    const result = await ctx.session.json(
      `/api/history/period?filter_entity_id=${encodeURIComponent(wanted)}`,
    );
    rows = result[0] || [];
  } catch {
    status.textContent = t("app.load_failed");
    return;
  }
  if (!rows.length) {
    status.textContent = t("history.none", { name });
    return;
  }
  const shown = picture(rows, name);
  const unit = rows[rows.length - 1].attributes?.unit_of_measurement || "";
  status.textContent = shown.summary;
  output.dataset.kind = shown.kind;
  output.append(
    h("h2", { id: "history-name" }, name),
    h("p", { class: "meta" }, t("history.period"), " · ", wanted),
    h("figure", { class: "chart-box card" }, shown.chart, shown.legend),
    changeList(rows, unit),
  );
}
