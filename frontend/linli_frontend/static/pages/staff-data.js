// What the staff pages read from the hub, in the user's scope (the hub filters every list):
// areas, devices, registered entities, states and open alerts, and how they hang together.

import { h } from "../dom.js";
import { formatTime, t } from "../i18n.js";
import { historyHref } from "./history.js";

export const UNAVAILABLE = "unavailable";

/** Load the registries, the states and the open alerts the user may see. */
export async function loadScope(ctx) {
  const [areas, devices, entries, states, alerts] = await Promise.all([
    ctx.areaIndex(),
    ctx.connection.command("config/device_registry/list"),
    ctx.connection.command("config/entity_registry/list"),
    ctx.connection.command("get_states"),
    ctx.connection.command("linli/alerts/list", { state: ["new", "acknowledged"] }),
  ]);
  const deviceById = new Map(devices.map((device) => [device.id, device]));
  const entryById = new Map(entries.map((entry) => [entry.entity_id, entry]));
  const entities = states.map((state) => {
    const entry = entryById.get(state.entity_id);
    const device = entry?.device_id ? deviceById.get(entry.device_id) : null;
    return {
      entity_id: state.entity_id,
      name: entry?.name || state.attributes?.friendly_name || entry?.original_name || state.entity_id,
      state: state.state,
      unit: state.attributes?.unit_of_measurement || "",
      last_updated: state.last_updated,
      device_id: device ? device.id : null,
      area_id: entry?.area_id || device?.area_id || null,
    };
  });
  return { areas, devices, entities, alerts };
}

/** Device name as people gave or the integration made it. */
export function deviceName(device) {
  return device.name_by_user || device.name || device.id;
}

/** One entity as a list item: name, state, last change and a link to its history. */
export function entityItem(entity) {
  const unavailable = entity.state === UNAVAILABLE;
  const value = unavailable
    ? t("staff.unavailable")
    : `${entity.state}${entity.unit ? ` ${entity.unit}` : ""}`;
  return h(
    "li",
    { class: unavailable ? "entity entity-down" : "entity", "data-entity-id": entity.entity_id },
    h("a", { href: historyHref(entity.entity_id) }, entity.name),
    " ",
    h("span", { class: unavailable ? "badge badge-critical" : "badge" }, value),
    h("span", { class: "meta" }, ` ${t("staff.changed", { time: formatTime(entity.last_updated) })}`),
  );
}
