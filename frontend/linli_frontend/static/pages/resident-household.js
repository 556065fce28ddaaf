// My household: who lives there (names, relation) and its rooms.

import { h } from "../dom.js";
import { areaName, t } from "../i18n.js";
import { failed, fill, ownHousehold, section, word } from "./resident-api.js";

function memberList(ctx, members) {
  if (!members.length) return h("p", { class: "empty" }, t("resident.household.no_members"));
  return h(
    "ul",
    { class: "resident-list", id: "household-members" },
    members.map((person) =>
      h(
        "li",
        { "data-person-id": person.id },
        h("strong", {}, person.name),
        person.id === ctx.user.person_id ? h("span", { class: "muted" }, ` (${t("resident.you")})`) : null,
        " · ",
        h("span", { class: "resident-relation" }, word("resident.relation", person.relation)),
      ),
    ),
  );
}

async function roomList(ctx, roomIds) {
  if (!roomIds.length) return h("p", { class: "empty" }, t("resident.household.no_rooms"));
  let areas = new Map();
  try {
    areas = await ctx.areaIndex();
  } catch {
    // Without the area names the ids still say which rooms.
  }
  return h(
    "ul",
    { class: "resident-list", id: "household-rooms" },
    roomIds.map((id) => {
      const area = areas.get(id);
      const parent = area?.parent_id ? areas.get(area.parent_id) : null;
      return h(
        "li",
        { "data-area-id": id },
        h("strong", {}, area ? areaName(area) : id),
        parent ? h("span", { class: "muted" }, ` · ${areaName(parent)}`) : null,
      );
    }),
  );
}

export async function renderResidentHousehold(main, ctx) {
  main.append(
    h("h1", {}, t("resident.household.title")),
    h("p", { class: "lead" }, t("resident.household.lead")),
  );
  const [members, membersBody] = section("members", t("resident.household.members"));
  const [rooms, roomsBody] = section("rooms", t("resident.household.rooms"));
  const grid = h("div", { class: "grid" }, members, rooms);
  main.append(grid);
  try {
    const id = await ownHousehold(ctx);
    if (!id) {
      grid.replaceWith(h("p", { class: "notice" }, t("home.no_household")));
      return;
    }
    const household = await ctx.connection.command("linli/households/get", { household_id: id });
    main.querySelector(".lead").textContent = t("resident.household.name", { name: household.name });
    fill(membersBody, memberList(ctx, household.members));
    fill(roomsBody, await roomList(ctx, household.room_ids));
  } catch {
    fill(membersBody, failed());
    fill(roomsBody);
  }
}
