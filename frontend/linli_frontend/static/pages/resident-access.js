// My access history (face_access's door log) and my cars' gate history (plate_gate's reads),
// each for the user's household only; "not available" when an integration is missing.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api, failed, fill, installed, section, timeNode, unavailable, word } from "./resident-api.js";

const LIMIT = 50;

function memberNames(household) {
  return new Map((household?.members || []).map((person) => [person.id, person.name]));
}

function accessRows(rows, names) {
  if (!rows.length) return h("p", { class: "empty" }, t("resident.access.doors_empty"));
  return h(
    "ul",
    { class: "resident-list", id: "access-log" },
    rows.map((row) =>
      h(
        "li",
        { "data-log-id": row.id, class: row.granted ? "" : "resident-denied" },
        h(
          "span",
          { class: `badge ${row.granted ? "resident-ok" : "badge-critical"}` },
          t(row.granted ? "resident.access.granted" : "resident.access.denied"),
        ),
        " ",
        timeNode(row.time),
        h(
          "div",
          { class: "meta" },
          t("resident.access.door", { door: row.door_id }),
          " · ",
          word("resident.method", row.method),
          row.person_id ? ` · ${names.get(row.person_id) || t("resident.access.someone")}` : "",
        ),
      ),
    ),
  );
}

function gateRows(rows) {
  if (!rows.length) return h("p", { class: "empty" }, t("resident.access.gates_empty"));
  return h(
    "ul",
    { class: "resident-list", id: "gate-log" },
    rows.map((row) =>
      h(
        "li",
        { "data-read-id": row.read_id, "data-plate": row.plate || "" },
        h("strong", { class: "plate" }, row.plate || row.raw_plate || t("resident.access.unread")),
        " ",
        h(
          "span",
          { class: `badge ${row.decision === "open" ? "resident-ok" : "badge-warning"}` },
          word("resident.decision", row.decision),
        ),
        " ",
        timeNode(row.time_ts),
        h(
          "div",
          { class: "meta" },
          t("resident.access.gate", { gate: row.gate_id }),
          " · ",
          word("resident.direction", row.direction),
          " · ",
          word("resident.category", row.category),
        ),
      ),
    ),
  );
}

export async function renderResidentAccess(main, ctx) {
  main.append(
    h("h1", {}, t("resident.access.title")),
    h("p", { class: "lead" }, t("resident.access.lead")),
  );
  const [doors, doorsBody] = section("doors", t("resident.access.doors"));
  const [gates, gatesBody] = section("gates", t("resident.access.gates"));
  main.append(h("div", { class: "grid" }, doors, gates));

  const loaded = await installed(ctx);
  let names = new Map();
  try {
    const households = await ctx.connection.command("linli/households/list");
    if (households.length) {
      names = memberNames(
        await ctx.connection.command("linli/households/get", { household_id: households[0].id }),
      );
    }
  } catch {
    // Names are a nicety: the log still reads without them.
  }

  async function load(body, integration, path, render) {
    if (!loaded.has(integration)) {
      fill(body, unavailable(t(`resident.integration.${integration}`)));
      return;
    }
    try {
      fill(body, render(await api(ctx, "GET", path)));
    } catch (error) {
      if (error.status === 404 && /household/i.test(error.hubMessage || "")) {
        fill(body, h("p", { class: "notice" }, t("home.no_household")));
      } else if (error.unavailable) {
        fill(body, unavailable(t(`resident.integration.${integration}`)));
      } else {
        fill(body, failed());
      }
    }
  }

  await Promise.all([
    load(doorsBody, "face_access", `/api/linli/access_log?limit=${LIMIT}`, (rows) =>
      accessRows(rows, names),
    ),
    load(gatesBody, "plate_gate", `/api/linli/gate_log?limit=${LIMIT}`, gateRows),
  ]);
}
