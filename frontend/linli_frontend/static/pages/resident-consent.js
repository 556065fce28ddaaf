// Consent and ways in: grant or withdraw face recognition (withdrawal erases the face data),
// the ways in that need no face (card, QR code, PIN; never their secrets) and a one-time
// visitor QR code, shown as text.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api, failed, fill, installed, section, timeNode, unavailable, word } from "./resident-api.js";

/** The version of the notice below; recorded with each consent (bump it when the text changes). */
export const NOTICE_VERSION = "face-notice-2026-03";
const SCOPE = "face_access: community doors";
const QR_HOURS = [2, 8, 24, 72];


/** The QR code as a picture, drawn by the hub (SVG); the text stays beside it. */
async function qrPicture(ctx, text) {
  try {
    const { svg } = await ctx.connection.command("frontend/qr_svg", { text, title: t("resident.qr.picture") });
    const drawing = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
    if (drawing.nodeName !== "svg") return null;
    const figure = h("figure", { id: "qr-picture", class: "resident-qr", role: "img", "aria-label": t("resident.qr.picture") });
    figure.append(document.importNode(drawing, true));
    return figure;
  } catch {
    return null; // the code text below still works
  }
}
function notice() {
  return h(
    "div",
    { class: "resident-notice", id: "face-notice" },
    h("p", {}, t("resident.consent.notice.kept")),
    h("p", {}, t("resident.consent.notice.not_kept")),
    h("p", {}, t("resident.consent.notice.withdraw")),
    h("p", {}, t("resident.consent.notice.optional")),
    h("p", { class: "muted" }, t("resident.consent.notice.version", { version: NOTICE_VERSION })),
  );
}

function credentialText(credential) {
  const kind = word("resident.credential", credential.type);
  if (credential.type === "card" && credential.card_no_tail) {
    return t("resident.ways.card_tail", { kind, tail: credential.card_no_tail });
  }
  return kind;
}

function credentialState(credential) {
  if (credential.revoked) return t("resident.ways.revoked");
  if (!credential.active) return t("resident.ways.inactive");
  if (credential.expires) return [t("resident.ways.until"), " ", timeNode(credential.expires)];
  return t("resident.ways.active");
}

function waysList(mine) {
  const credentials = mine.credentials || [];
  if (!credentials.length) return h("p", { class: "empty" }, t("resident.ways.none"));
  return h(
    "ul",
    { class: "resident-list", id: "ways-in" },
    credentials.map((credential) =>
      h(
        "li",
        { "data-credential-type": credential.type, "data-active": String(credential.active) },
        h("strong", {}, credentialText(credential)),
        credential.label ? ` · ${credential.label}` : "",
        h("div", { class: "meta" }, credentialState(credential)),
      ),
    ),
  );
}

function faceData(mine) {
  const enrolled = mine.face?.enrolled || 0;
  const deletions = mine.terminal_deletions || [];
  const verified = deletions.filter((item) => item.verified).length;
  return h(
    "div",
    { class: "stack" },
    h(
      "p",
      { id: "face-data" },
      enrolled
        ? t("resident.consent.enrolled", { count: enrolled })
        : t("resident.consent.no_face_data"),
    ),
    deletions.length
      ? h(
          "p",
          { class: "muted", id: "face-deletions" },
          t("resident.consent.deletions", { count: deletions.length, verified }),
        )
      : null,
  );
}

export async function renderResidentConsent(main, ctx) {
  main.append(
    h("h1", {}, t("resident.consent.title")),
    h("p", { class: "lead" }, t("resident.consent.lead")),
  );
  const personId = ctx.user.person_id;
  if (!personId) {
    main.append(h("p", { class: "notice" }, t("home.no_household")));
    return;
  }
  const faceAccess = (await installed(ctx)).has("face_access");
  const [consentSection, consentBody] = section("face", t("resident.consent.face"), notice());
  const [waysSection, waysBody] = section("ways", t("resident.ways.title"), h("p", {}, t("resident.ways.lead")));
  const [qrSection, qrBody] = section("visitor-qr", t("resident.qr.title"), h("p", {}, t("resident.qr.lead")));
  main.append(h("div", { class: "grid" }, consentSection, waysSection, qrSection));

  const status = h("p", { role: "status", id: "consent-status", class: "muted" });

  async function credentials() {
    if (!faceAccess) return null;
    const list = await api(ctx, "GET", `/api/linli/credentials?person_id=${encodeURIComponent(personId)}`);
    return list.find((item) => item.person_id === personId) || null;
  }

  async function act(button, work, done) {
    button.disabled = true;
    status.textContent = t("resident.consent.saving");
    try {
      await work();
      ctx.announce(done);
      await load();
      consentBody.querySelector("button")?.focus();
      status.textContent = done;
    } catch {
      button.disabled = false;
      status.textContent = t("alert.action_failed");
    }
  }

  function grantButton() {
    const button = h(
      "button",
      { type: "button", class: "button-primary", id: "consent-grant" },
      t("resident.consent.grant"),
    );
    button.addEventListener("click", () =>
      act(
        button,
        () =>
          api(ctx, "POST", "/api/linli/consents", {
            person_id: personId,
            data_kind: "face",
            scope: SCOPE,
            method: "app",
            notice_version: NOTICE_VERSION,
          }),
        t("resident.consent.granted_now"),
      ),
    );
    return button;
  }

  function withdrawControls(active) {
    const confirm = h(
      "button",
      { type: "button", class: "button-primary resident-danger", id: "consent-withdraw-confirm" },
      t("resident.consent.withdraw_confirm"),
    );
    const cancel = h("button", { type: "button", class: "button-secondary" }, t("alert.cancel"));
    const question = h(
      "div",
      { class: "stack resident-confirm", hidden: true, role: "group", "aria-labelledby": "withdraw-question" },
      h("p", { id: "withdraw-question" }, t("resident.consent.withdraw_question")),
      h("div", { class: "row" }, confirm, cancel),
    );
    const start = h(
      "button",
      { type: "button", class: "button-secondary", id: "consent-withdraw", "aria-expanded": "false" },
      t("resident.consent.withdraw"),
    );
    start.addEventListener("click", () => {
      question.hidden = false;
      start.setAttribute("aria-expanded", "true");
      confirm.focus();
    });
    cancel.addEventListener("click", () => {
      question.hidden = true;
      start.setAttribute("aria-expanded", "false");
      start.focus();
    });
    confirm.addEventListener("click", () =>
      act(
        confirm,
        async () => {
          for (const consent of active) {
            await api(ctx, "POST", `/api/linli/consents/${encodeURIComponent(consent.id)}/withdraw`, {});
          }
        },
        t("resident.consent.withdrawn_now"),
      ),
    );
    return [start, question];
  }

  async function load() {
    let consents;
    let mine = null;
    try {
      consents = await api(ctx, "GET", `/api/linli/consents?person_id=${encodeURIComponent(personId)}`);
    } catch {
      fill(consentBody, failed());
      return;
    }
    const active = consents.filter((consent) => consent.data_kind === "face" && consent.active);
    try {
      mine = await credentials();
    } catch (error) {
      fill(waysBody, error.unavailable ? unavailable(t("resident.integration.face_access")) : failed());
    }
    const state = active.length
      ? h(
          "p",
          { id: "consent-state", class: "resident-state", "data-state": "granted" },
          t("resident.consent.state_granted"),
          " ",
          timeNode(active[0].granted_at),
        )
      : h(
          "p",
          { id: "consent-state", class: "resident-state", "data-state": "none" },
          t("resident.consent.state_none"),
        );
    fill(
      consentBody,
      state,
      mine ? faceData(mine) : null,
      active.length
        ? withdrawControls(active)
        : faceAccess
          ? grantButton()
          : unavailable(t("resident.integration.face_access")),
      status,
    );
    if (!faceAccess) {
      fill(waysBody, unavailable(t("resident.integration.face_access")));
    } else if (mine) {
      fill(waysBody, waysList(mine));
    }
  }

  function qrForm() {
    const hours = h(
      "select",
      { id: "qr-hours", name: "valid_hours" },
      QR_HOURS.map((value) =>
        h("option", { value, selected: value === 24 }, t("resident.qr.hours", { count: value })),
      ),
    );
    const label = h("input", { id: "qr-label", name: "label", maxlength: 64, autocomplete: "off" });
    const output = h("div", { id: "qr-result", "aria-live": "polite" });
    const button = h("button", { type: "submit", class: "button-primary" }, t("resident.qr.create"));
    const form = h(
      "form",
      { class: "stack", id: "qr-form" },
      h("div", { class: "field" }, h("label", { for: "qr-hours" }, t("resident.qr.valid")), hours),
      h("div", { class: "field" }, h("label", { for: "qr-label" }, t("resident.qr.label")), label),
      h("div", { class: "row" }, button),
      output,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      output.replaceChildren();
      const request = { valid_hours: Number(hours.value) };
      if (label.value.trim()) request.label = label.value.trim();
      try {
        const answer = await ctx.connection.command("face_access/visitor_qr", request);
        output.append(
          h(
            "div",
            { class: "resident-code stack" },
            h("p", {}, t("resident.qr.made")),
            await qrPicture(ctx, answer.qr),
            h("code", { id: "qr-code", class: "resident-code-text" }, answer.qr),
            h("p", { class: "meta" }, t("resident.qr.expires"), " ", timeNode(answer.credential.expires)),
            h("p", { class: "muted" }, t("resident.qr.once")),
          ),
        );
      } catch {
        output.append(h("p", { class: "form-error", role: "alert" }, t("alert.action_failed")));
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  fill(qrBody, faceAccess ? qrForm() : unavailable(t("resident.integration.face_access")));
  await load();
}
