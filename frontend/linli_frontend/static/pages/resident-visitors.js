// Visitor plates: register a visitor's car for a time window, see whether and when it was
// used, delete one. The hub validates (plate rules, window); its refusals are shown clearly.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api, failed, fill, installed, section, timeNode, unavailable, word } from "./resident-api.js";

const COLORS = ["", "blue", "green", "yellow", "yellow_green", "white", "black"];
const DEFAULT_HOURS = 4;

/** A Date as the value of an <input type="datetime-local"> (local time, minutes). */
function localValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** The hub's 400 message as a sentence for people, and the field it is about. */
function explain(message) {
  const rules = [
    [/^'plate'/, "plate", "resident.visitors.error.plate"],
    [/^'color'/, "color", "resident.visitors.error.color"],
    [/'end' should be after 'start'/, "end", "resident.visitors.error.order"],
    [/at most 31 days/, "end", "resident.visitors.error.too_long"],
    [/'end' is in the past/, "end", "resident.visitors.error.past"],
    [/^'(start|end)'/, null, "resident.visitors.error.time"],
  ];
  for (const [pattern, field, key] of rules) {
    const match = message.match(pattern);
    if (match) return { field: field || match[1], text: t(key) };
  }
  return { field: null, text: t("resident.visitors.error.hub", { message }) };
}

// Whether a pass is over is left to the times shown: the browser's clock may differ from
// the hub's, which alone decides at the gate.
function status(entry) {
  if (entry.used) {
    return h(
      "span",
      { class: "badge resident-ok resident-used" },
      t("resident.visitors.used", { count: entry.uses }),
      " · ",
      timeNode(entry.first_used_ts),
    );
  }
  return h("span", { class: "badge badge-state-new" }, t("resident.visitors.unused"));
}

export async function renderResidentVisitors(main, ctx) {
  main.append(
    h("h1", {}, t("resident.visitors.title")),
    h("p", { class: "lead" }, t("resident.visitors.lead")),
  );
  if (!(await installed(ctx)).has("plate_gate")) {
    main.append(unavailable(t("resident.integration.plate_gate")));
    return;
  }

  const now = new Date();
  now.setSeconds(0, 0);
  const fields = {
    plate: h("input", {
      id: "visitor-plate",
      name: "plate",
      required: true,
      maxlength: 32,
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      "aria-describedby": "visitor-plate-hint",
    }),
    color: h(
      "select",
      { id: "visitor-color", name: "color" },
      COLORS.map((color) =>
        h("option", { value: color }, t(`resident.color.${color || "unknown"}`)),
      ),
    ),
    start: h("input", {
      id: "visitor-start",
      name: "start",
      type: "datetime-local",
      required: true,
      value: localValue(now),
    }),
    end: h("input", {
      id: "visitor-end",
      name: "end",
      type: "datetime-local",
      required: true,
      value: localValue(new Date(now.getTime() + DEFAULT_HOURS * 3600_000)),
    }),
    note: h("input", { id: "visitor-note", name: "note", maxlength: 200, autocomplete: "off" }),
  };
  const error = h("p", { class: "form-error", id: "visitor-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button-primary" }, t("resident.visitors.submit"));
  const field = (name, label, ...extra) =>
    h("div", { class: "field" }, h("label", { for: fields[name].id }, label), fields[name], ...extra);

  const form = h(
    "form",
    { class: "card stack", id: "visitor-form", novalidate: true, "aria-labelledby": "visitor-form-title" },
    h("h2", { id: "visitor-form-title" }, t("resident.visitors.new")),
    field(
      "plate",
      t("resident.visitors.plate"),
      h("span", { class: "muted", id: "visitor-plate-hint" }, t("resident.visitors.plate_hint")),
    ),
    field("color", t("resident.visitors.color")),
    h(
      "div",
      { class: "resident-window" },
      field("start", t("resident.visitors.start")),
      field("end", t("resident.visitors.end")),
    ),
    field("note", t("resident.visitors.note")),
    error,
    h("div", { class: "row" }, submit),
  );

  const [listSection, listBody] = section("passes", t("resident.visitors.list"));
  const refresh = h(
    "button",
    { type: "button", class: "button-secondary", id: "visitor-refresh", onclick: () => load() },
    t("resident.visitors.refresh"),
  );
  listSection.querySelector("h2").after(h("div", { class: "row" }, refresh));
  main.append(h("div", { class: "grid" }, form, listSection));

  function showError(text, name) {
    for (const input of Object.values(fields)) input.removeAttribute("aria-invalid");
    error.textContent = text;
    if (name && fields[name]) {
      fields[name].setAttribute("aria-invalid", "true");
      fields[name].setAttribute("aria-errormessage", "visitor-error");
      fields[name].focus();
    }
  }

  async function remove(entry, button) {
    button.disabled = true;
    try {
      await api(ctx, "DELETE", `/api/linli/visitor_passes/${encodeURIComponent(entry.id)}`);
      ctx.announce(t("resident.visitors.deleted", { plate: entry.plate }));
    } catch {
      ctx.announce(t("alert.action_failed"));
      button.disabled = false;
    }
    await load();
  }

  function passList(entries) {
    if (!entries.length) return h("p", { class: "empty" }, t("resident.visitors.empty"));
    return h(
      "ul",
      { class: "resident-list", id: "visitor-passes" },
      entries.map((entry) => {
        const button = h(
          "button",
          {
            type: "button",
            class: "button-quiet",
            "aria-label": t("resident.visitors.delete_named", { plate: entry.plate }),
          },
          t("resident.visitors.delete"),
        );
        button.addEventListener("click", () => remove(entry, button));
        return h(
          "li",
          { "data-pass-id": entry.id, "data-plate": entry.plate },
          h("strong", { class: "plate" }, entry.plate),
          entry.color ? h("span", { class: "muted" }, ` · ${word("resident.color", entry.color)}`) : null,
          " ",
          status(entry),
          h(
            "div",
            { class: "meta" },
            timeNode(entry.start_ts),
            " – ",
            timeNode(entry.end_ts),
            entry.note ? ` · ${entry.note}` : "",
          ),
          h("div", { class: "actions" }, button),
        );
      }),
    );
  }

  async function load() {
    listBody.setAttribute("aria-busy", "true");
    try {
      fill(listBody, passList(await api(ctx, "GET", "/api/linli/visitor_passes")));
    } catch (err) {
      fill(listBody, err.unavailable ? unavailable(t("resident.integration.plate_gate")) : failed());
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const plate = fields.plate.value.trim();
    if (!plate) return showError(t("resident.visitors.error.plate_missing"), "plate");
    if (!fields.start.value || !fields.end.value) {
      return showError(t("resident.visitors.error.time"), fields.start.value ? "end" : "start");
    }
    const body = {
      plate,
      start: new Date(fields.start.value).toISOString(),
      end: new Date(fields.end.value).toISOString(),
    };
    if (fields.color.value) body.color = fields.color.value;
    if (fields.note.value.trim()) body.note = fields.note.value.trim();
    submit.disabled = true;
    try {
      const entry = await api(ctx, "POST", "/api/linli/visitor_passes", body);
      showError("");
      fields.plate.value = "";
      fields.note.value = "";
      ctx.announce(t("resident.visitors.added", { plate: entry.plate }));
      await load();
    } catch (err) {
      if (err.status === 400) {
        const { field: name, text } = explain(err.hubMessage);
        showError(text, name);
      } else if (err.unavailable) {
        showError(t("resident.unavailable", { what: t("resident.integration.plate_gate") }));
      } else {
        showError(t("alert.action_failed"));
      }
    } finally {
      submit.disabled = false;
    }
  });

  await load();
}
