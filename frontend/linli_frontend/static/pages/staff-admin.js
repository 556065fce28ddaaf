// The system page of administrators: integrations (those that failed, with the reason),
// automations with their last runs, blueprints (listed, and imported from pasted YAML), and
// users with their roles.

import { h } from "../dom.js";
import { formatTime, t } from "../i18n.js";
import { historyHref } from "./history.js";

const TRACES_SHOWN = 5;

function section(id, title, ...content) {
  return h(
    "section",
    { class: "card admin-section", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title`, tabindex: "-1" }, title),
    ...content,
  );
}

function failure(body) {
  body.replaceChildren(h("p", { class: "form-error", role: "alert" }, t("app.load_failed")));
}

async function integrations(ctx, body) {
  // Every integration the hub knows, with its status and, when it failed, the reason.
  const listing = await ctx.connection.command("linli/integrations/list");
  const loaded = new Set(listing.filter((entry) => entry.status === "loaded").map((entry) => entry.domain));
  const failed = listing
    .filter((entry) => entry.status !== "loaded" && entry.reason)
    .map((entry) => [entry.domain, entry]);
  body.replaceChildren(
    h("p", { id: "integrations-summary" }, t("staff.admin.integrations_summary", { loaded: loaded.size, failed: failed.length })),
    failed.length
      ? h(
          "ul",
          { class: "plain", id: "integrations-failed", "aria-label": t("staff.admin.failed") },
          failed.map(([domain, { reason, status }]) =>
            h(
              "li",
              { class: "integration integration-failed", "data-domain": domain },
              h("strong", {}, domain),
              " ",
              h("span", { class: "badge badge-critical" }, t("staff.admin.status.failed")),
              h("p", { class: "reason" }, reason),
              h("p", { class: "meta" }, status),
            ),
          ),
        )
      : null,
    h(
      "details",
      {},
      h("summary", {}, t("staff.admin.loaded", { count: loaded.size })),
      h(
        "ul",
        { class: "chips", id: "integrations-loaded" },
        [...loaded].sort().map((domain) =>
          h("li", { class: "integration", "data-domain": domain }, h("span", { class: "badge badge-ok" }, domain)),
        ),
      ),
    ),
    h("p", { class: "muted" }, t("staff.admin.integrations_note")),
  );
}

function traceItem(trace) {
  const bad = trace.error || trace.script_execution === "error";
  return h(
    "li",
    { class: "trace", "data-run-id": trace.run_id },
    h("span", {}, formatTime(trace.timestamp?.start)),
    " ",
    h(
      "span",
      { class: bad ? "badge badge-critical" : "badge badge-ok" },
      t(`staff.admin.run.${bad ? "error" : trace.state === "running" ? "running" : "ok"}`),
    ),
    trace.trigger ? h("span", { class: "meta" }, ` ${trace.trigger}`) : null,
    trace.last_step ? h("span", { class: "meta" }, ` · ${t("staff.admin.last_step", { step: trace.last_step })}`) : null,
    trace.error ? h("p", { class: "reason" }, trace.error) : null,
  );
}

async function automations(ctx, body) {
  const [states, traces] = await Promise.all([
    ctx.connection.command("get_states"),
    ctx.connection.command("trace/list", { domain: "automation" }),
  ]);
  const runs = new Map();
  for (const trace of traces) {
    if (!runs.has(trace.item_id)) runs.set(trace.item_id, []);
    runs.get(trace.item_id).push(trace);
  }
  for (const list of runs.values()) {
    list.sort((a, b) => (b.timestamp?.start || "").localeCompare(a.timestamp?.start || ""));
  }
  const items = states
    .filter((state) => state.entity_id.startsWith("automation."))
    .sort((a, b) => a.entity_id.localeCompare(b.entity_id));
  if (!items.length) {
    body.replaceChildren(h("p", { class: "muted" }, t("staff.admin.no_automations")));
    return;
  }
  body.replaceChildren(
    h(
      "ul",
      { class: "plain", id: "automation-list" },
      items.map((state) => {
        const list = runs.get(state.attributes?.id) || [];
        const name = state.attributes?.friendly_name || state.entity_id;
        return h(
          "li",
          { class: "automation", "data-entity-id": state.entity_id },
          h("h3", {}, h("a", { href: historyHref(state.entity_id) }, name)),
          h(
            "p",
            { class: "meta" },
            h("span", { class: state.state === "on" ? "badge badge-ok" : "badge" }, t(`staff.admin.automation.${state.state === "on" ? "on" : "off"}`)),
            " ",
            state.attributes?.last_triggered
              ? t("staff.admin.last_triggered", { time: formatTime(state.attributes.last_triggered) })
              : t("staff.admin.never_triggered"),
          ),
          list.length
            ? h(
                "details",
                { class: "traces" },
                h("summary", {}, t("staff.admin.traces", { count: list.length })),
                h("ol", { class: "trace-list" }, list.slice(0, TRACES_SHOWN).map(traceItem)),
              )
            : h("p", { class: "muted" }, t("staff.admin.no_traces")),
        );
      }),
    ),
  );
}

function blueprintInput(item) {
  const label = item.name && item.name !== item.key ? `${item.key} — ${item.name}` : item.key;
  const need = item.required
    ? t("blueprints.required")
    : t("blueprints.default", { value: JSON.stringify(item.default) });
  return h("li", { "data-input": item.key }, h("code", {}, label), ` (${need})`);
}

function blueprintItem(row) {
  const owner = row.owner === "config" ? t("blueprints.owner_config") : row.owner;
  return h(
    "li",
    { class: "blueprint", "data-path": `${row.domain}/${row.path}` },
    h(
      "h3",
      {},
      row.name || row.path,
      row.valid ? null : [" ", h("span", { class: "badge badge-critical" }, t("blueprints.invalid"))],
    ),
    h("p", { class: "meta" }, h("code", {}, `${row.domain}/${row.path}`), ` · ${t("blueprints.owner", { owner })}`),
    row.description ? h("p", { class: "description" }, row.description) : null,
    row.issues.map((issue) => h("p", { class: "reason" }, issue)),
    row.shadowed_by ? h("p", { class: "muted" }, t("blueprints.shadowed", { owner: row.shadowed_by })) : null,
    row.valid
      ? row.inputs.length
        ? h(
            "details",
            {},
            h("summary", {}, t("blueprints.inputs", { count: row.inputs.length })),
            h("ul", { class: "plain" }, row.inputs.map(blueprintInput)),
          )
        : h("p", { class: "muted" }, t("blueprints.no_inputs"))
      : null,
    row.domain === "automation" && !row.shadowed_by
      ? h(
          "p",
          { class: "used-by" },
          row.used_by.length ? t("blueprints.used_by", { names: row.used_by.join(", ") }) : t("blueprints.unused"),
        )
      : null,
  );
}

function importForm(ctx, refresh) {
  const yaml = h("textarea", { id: "blueprint-yaml", rows: "10", required: true, spellcheck: "false", "aria-describedby": "blueprint-yaml-hint" });
  const path = h("input", { id: "blueprint-path", type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": "blueprint-path-hint" });
  const force = h("input", { id: "blueprint-force", type: "checkbox" });
  const status = h("p", { id: "blueprint-import-status", role: "status" });
  const error = h("p", { id: "blueprint-import-error", class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button-primary" }, t("blueprints.import"));
  const form = h(
    "form",
    {
      class: "stack",
      id: "blueprint-import",
      "aria-labelledby": "blueprint-import-title",
      onsubmit: async (event) => {
        event.preventDefault();
        status.textContent = "";
        error.textContent = "";
        const data = { yaml: yaml.value };
        if (path.value.trim()) data.path = path.value.trim();
        if (force.checked) data.force = true;
        submit.disabled = true;
        try {
          const done = await ctx.connection.command("linli/blueprints/import", data);
          status.textContent = t("blueprints.imported", done);
          yaml.value = "";
          path.value = "";
          force.checked = false;
          await refresh();
        } catch (failure) {
          error.textContent =
            failure?.code === "invalid_format"
              ? t("blueprints.refused", { message: failure.message })
              : t("alert.action_failed");
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h3", { id: "blueprint-import-title" }, t("blueprints.import_title")),
    h("label", { for: "blueprint-yaml" }, t("blueprints.yaml")),
    h("p", { class: "muted", id: "blueprint-yaml-hint" }, t("blueprints.yaml_hint")),
    yaml,
    h("label", { for: "blueprint-path" }, t("blueprints.path")),
    h("p", { class: "muted", id: "blueprint-path-hint" }, t("blueprints.path_hint")),
    path,
    h("div", { class: "toggle" }, force, h("label", { for: "blueprint-force" }, t("blueprints.force"))),
    h("div", { class: "row" }, submit),
    status,
    error,
  );
  return form;
}

async function blueprints(ctx, body) {
  const list = h("ul", { class: "plain", id: "blueprint-list", "aria-label": t("blueprints.list_label") });
  const empty = h("p", { class: "muted", id: "blueprint-empty", hidden: true }, t("blueprints.empty"));
  const refresh = async () => {
    const rows = await ctx.connection.command("linli/blueprints/list");
    list.replaceChildren(...rows.map(blueprintItem));
    empty.hidden = rows.length > 0;
  };
  await refresh();
  body.replaceChildren(list, empty, importForm(ctx, refresh));
}

async function users(ctx, body) {
  const list = await ctx.session.json("/api/linli/users");
  const shown = list.filter((user) => !user.system_generated);
  body.replaceChildren(
    h(
      "table",
      { class: "data-table", id: "user-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, t("staff.admin.user")),
          h("th", { scope: "col" }, t("staff.admin.role")),
          h("th", { scope: "col" }, t("staff.admin.user_areas")),
          h("th", { scope: "col" }, t("staff.admin.active")),
        ),
      ),
      h(
        "tbody",
        {},
        shown.map((user) =>
          h(
            "tr",
            { "data-user-id": user.id, "data-role": user.role },
            h("th", { scope: "row" }, user.name),
            h("td", {}, t(`role.${user.role}`)),
            h("td", {}, user.area_ids.length ? user.area_ids.join(", ") : t("staff.admin.no_areas")),
            h("td", {}, t(user.is_active ? "staff.admin.yes" : "staff.admin.no")),
          ),
        ),
      ),
    ),
  );
}

export async function renderAdmin(main, ctx) {
  const parts = [
    ["admin-integrations", t("staff.admin.integrations"), (body) => integrations(ctx, body)],
    ["admin-automations", t("staff.admin.automations"), (body) => automations(ctx, body)],
    ["admin-blueprints", t("staff.admin.blueprints"), (body) => blueprints(ctx, body)],
    ["admin-users", t("staff.admin.users"), (body) => users(ctx, body)],
  ];
  main.append(
    h("h1", {}, t("staff.admin.title")),
    h(
      "nav",
      { class: "page-index", "aria-label": t("staff.admin.sections") },
      h("ul", { class: "chips" }, parts.map(([id, title]) => h("li", {}, h("a", { href: `#/system`, "data-target": id, onclick: (event) => { event.preventDefault(); document.getElementById(id)?.scrollIntoView(); document.getElementById(`${id}-title`)?.focus(); } }, title)))),
    ),
  );
  const grid = h("div", { class: "stack", "aria-busy": "true", id: "admin-sections" });
  main.append(grid);
  await Promise.all(
    parts.map(async ([id, title, fill]) => {
      const body = h("div", { class: "section-body" }, h("p", { class: "muted" }, t("app.loading")));
      grid.append(section(id, title, body));
      try {
        await fill(body);
      } catch {
        failure(body);
      }
    }),
  );
  grid.removeAttribute("aria-busy");
}
