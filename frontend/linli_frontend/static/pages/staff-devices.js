// Device health: the devices in the user's scope, those with unavailable entities first, with
// when each was last seen (its entities' latest update) and links to their history.

import { h, uid } from "../dom.js";
import { areaName, formatTime, t } from "../i18n.js";
import { deviceName, entityItem, loadScope, UNAVAILABLE } from "./staff-data.js";

export async function renderDevices(main, ctx) {
  const filterId = uid("only-down");
  const onlyDown = h("input", { type: "checkbox", id: filterId, class: "switch" });
  const status = h("p", { role: "status", class: "muted", id: "devices-status" }, t("app.loading"));
  const list = h("ul", { class: "plain device-list", id: "device-list" });
  main.append(
    h("h1", {}, t("staff.devices.title")),
    h("p", { class: "lead" }, t("staff.devices.lead")),
    h("div", { class: "toolbar" }, status, h("div", { class: "toggle" }, onlyDown, h("label", { for: filterId }, t("staff.devices.only_down")))),
    list,
  );
  let scope;
  try {
    scope = await loadScope(ctx);
  } catch {
    status.textContent = t("app.load_failed");
    return;
  }
  const { areas, devices, entities } = scope;
  const rows = devices.map((device) => {
    const own = entities.filter((entity) => entity.device_id === device.id);
    const down = own.filter((entity) => entity.state === UNAVAILABLE);
    const seen = own.map((entity) => entity.last_updated).sort().at(-1) || null;
    return { device, own, down, seen };
  });
  rows.sort(
    (a, b) =>
      (b.down.length > 0) - (a.down.length > 0) ||
      deviceName(a.device).localeCompare(deviceName(b.device), undefined, { numeric: true }),
  );
  const downCount = rows.filter((row) => row.down.length).length;
  status.textContent = t("staff.devices.summary", { count: rows.length, down: downCount });

  for (const { device, own, down, seen } of rows) {
    const titleId = uid("device");
    const offline = down.length > 0;
    list.append(
      h(
        "li",
        {
          class: offline ? "card device device-down" : "card device",
          "data-device-id": device.id,
          "data-health": offline ? "down" : "ok",
          "aria-labelledby": titleId,
        },
        h(
          "div",
          { class: "alert-head" },
          h("h2", { id: titleId, class: "device-name" }, deviceName(device)),
          h(
            "span",
            { class: offline ? "badge badge-critical" : "badge badge-ok", "data-health-badge": "" },
            offline ? t("staff.devices.down", { count: down.length }) : t("staff.devices.ok"),
          ),
        ),
        h(
          "p",
          { class: "meta" },
          [
            areaName(areas.get(device.area_id)) || t("alert.no_area"),
            [device.manufacturer, device.model].filter(Boolean).join(" "),
            seen ? t("staff.devices.seen", { time: formatTime(seen) }) : t("staff.devices.never"),
          ]
            .filter(Boolean)
            .join(" · "),
        ),
        own.length ? h("ul", { class: "plain entity-list" }, own.map(entityItem)) : h("p", { class: "muted" }, t("staff.devices.no_entities")),
      ),
    );
  }
  if (!rows.length) list.append(h("li", { class: "empty" }, t("staff.devices.none")));
  onlyDown.addEventListener("change", () => {
    for (const item of list.querySelectorAll("[data-health='ok']")) item.hidden = onlyDown.checked;
  });
}
