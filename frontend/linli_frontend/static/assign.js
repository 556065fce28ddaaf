// Giving an alert to someone: a role (role:staff …) or, where the user list is readable, a
// person by name; and how the card names whoever has it.

import { h, uid } from "./dom.js";
import { t } from "./i18n.js";

export const ROLE_TARGETS = ["role:staff", "role:grid_worker", "role:police", "role:admin"];

/** The roles that may assign alerts on the board (the hub checks each alert's scope). */
export const ASSIGNING_ROLES = new Set(["admin", "staff", "grid_worker"]);

/**
 * People an alert can be given to by name: the active users of /api/linli/users, which only
 * administrators may read; everyone else chooses a role.
 */
export async function assignablePeople(ctx) {
  if (ctx.user?.role !== "admin") return [];
  try {
    const users = await ctx.session.json("/api/linli/users");
    return users
      .filter((user) => !user.system_generated && user.is_active)
      .map((user) => ({ id: user.id, name: user.name, role: user.role }))
      .sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

/** How an assignee is shown: the role's name, the person's name, or "another user". */
export function assigneeLabel(ctx, assignee, people = []) {
  if (ROLE_TARGETS.includes(assignee)) return t(`role.${assignee.slice(5)}`);
  if (assignee.startsWith("role:")) return assignee.slice(5);
  const person = people.find((item) => item.id === assignee);
  if (person) return person.name;
  if (assignee === ctx.user?.id) return ctx.user.name;
  return t("board.assign.other_user");
}

/**
 * The "Assign…" button and its form for one alert. ``run(type, data, button)`` sends the
 * command and shows a failure; the card then shows the new assignee when the hub says so.
 */
export function assignControls(ctx, alert, people, run) {
  const targetId = uid("assign-target");
  const noteId = uid("assign-note");
  const select = h(
    "select",
    { id: targetId, name: "assignee", required: true },
    h(
      "optgroup",
      { label: t("board.assign.roles") },
      ROLE_TARGETS.map((value) =>
        h("option", { value, selected: alert.assignee === value }, t(`role.${value.slice(5)}`)),
      ),
    ),
    people.length
      ? h(
          "optgroup",
          { label: t("board.assign.people") },
          people.map((person) =>
            h(
              "option",
              { value: person.id, selected: alert.assignee === person.id },
              `${person.name} (${t(`role.${person.role}`)})`,
            ),
          ),
        )
      : null,
  );
  const note = h("textarea", { id: noteId, rows: "2", maxlength: "2000" });
  const confirm = h(
    "button",
    { type: "submit", class: "button-primary", "data-action": "confirm-assign" },
    t("board.assign.confirm"),
  );
  const close = () => {
    form.hidden = true;
    open.hidden = false;
    open.focus();
  };
  const form = h(
    "form",
    {
      class: "assign-form stack",
      hidden: true,
      onsubmit: (event) => {
        event.preventDefault();
        const text = note.value.trim();
        run("linli/alerts/assign", { assignee: select.value, ...(text ? { note: text } : {}) }, confirm);
      },
    },
    h("label", { for: targetId }, t("board.assign.target")),
    select,
    h("label", { for: noteId }, t("board.assign.note")),
    note,
    people.length ? null : h("p", { class: "muted" }, t("board.assign.roles_only")),
    h(
      "div",
      { class: "row" },
      confirm,
      h("button", { type: "button", class: "button-quiet", onclick: close }, t("alert.cancel")),
    ),
  );
  const open = h(
    "button",
    {
      type: "button",
      class: "button-secondary",
      "data-action": "assign",
      onclick: () => {
        form.hidden = false;
        open.hidden = true;
        select.focus();
      },
    },
    t("board.assign.open"),
  );
  return { open, form };
}
