// The login page: user name and password, with a clear message when the hub says no.

import { LoginError } from "../auth.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

function message(error) {
  if (!(error instanceof LoginError)) return t("login.failed");
  if (error.kind === "invalid") return t("login.invalid");
  if (error.kind === "locked") {
    return t("login.locked", { minutes: Math.max(1, Math.ceil(error.retryAfter / 60)) });
  }
  if (error.kind === "unreachable") return t("app.unreachable");
  return t("login.failed");
}

export function renderLogin(main, ctx) {
  const notice = ctx.notice;
  ctx.notice = null;
  const error = h("p", { id: "login-error", class: "form-error", role: "alert" });
  const username = h("input", {
    id: "username",
    name: "username",
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
    required: true,
  });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const submit = h("button", { type: "submit", class: "button-primary" }, t("login.submit"));

  async function onsubmit(event) {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    submit.textContent = t("login.busy");
    try {
      await ctx.login(username.value.trim(), password.value);
    } catch (failure) {
      error.textContent = message(failure);
      password.value = "";
      submit.disabled = false;
      submit.textContent = t("login.submit");
      password.setAttribute("aria-invalid", "true");
      (username.value ? password : username).focus();
    }
  }

  main.append(
    h(
      "section",
      { class: "card login" },
      h("h1", {}, t("login.title")),
      notice ? h("p", { class: "notice", role: "status" }, t(notice)) : null,
      h(
        "form",
        { class: "stack", onsubmit, novalidate: true, "aria-describedby": "login-error" },
        h("div", { class: "field" }, h("label", { for: "username" }, t("login.username")), username),
        h("div", { class: "field" }, h("label", { for: "password" }, t("login.password")), password),
        error,
        submit,
      ),
    ),
  );
}
