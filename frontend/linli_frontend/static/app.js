// The UI's entry point: language, session, the top bar and the routes for each role.

import { Session, SessionExpired } from "./auth.js";
import { append, h } from "./dom.js";
import * as i18n from "./i18n.js";
import { renderAlertBoard } from "./pages/alerts.js";
import { renderHistory } from "./pages/history.js";
import { renderHome } from "./pages/home.js";
import { renderLogin } from "./pages/login.js";
import { renderNotices } from "./pages/notices.js";
import { renderPolice } from "./pages/police.js";
import { renderResidentAccess } from "./pages/resident-access.js";
import { renderResidentConsent } from "./pages/resident-consent.js";
import { renderResidentHousehold } from "./pages/resident-household.js";
import { renderResidentVisitors } from "./pages/resident-visitors.js";
import { renderAdmin } from "./pages/staff-admin.js";
import { renderAreas } from "./pages/staff-areas.js";
import { renderDevices } from "./pages/staff-devices.js";
import { Router } from "./router.js";
import { HubConnection } from "./ws.js";

const { t } = i18n;
const STAFF = ["admin", "staff", "grid_worker"];
const POLICE = ["admin", "police"];
const RESIDENT = ["resident"];

const boot = JSON.parse(document.getElementById("linli-boot").textContent);
i18n.init(boot);

const ctx = {
  boot,
  session: new Session(),
  connection: null,
  user: null,
  notice: null,
  areas: null,
  announce,
  login,
  logout,
  /** Area registry entries in the user's scope, by id (fetched once per login). */
  async areaIndex() {
    if (!this.areas) {
      const list = await this.connection.command("config/area_registry/list");
      this.areas = new Map(list.map((area) => [area.area_id, area]));
    }
    return this.areas;
  },
};

const NAV = [
  { path: "/home", label: "nav.home", roles: null },
  { path: "/alerts", label: "nav.alerts", roles: STAFF },
  { path: "/areas", label: "staff.nav.areas", roles: STAFF },
  { path: "/devices", label: "staff.nav.devices", roles: STAFF },
  { path: "/system", label: "staff.nav.system", roles: ["admin"] },
  { path: "/police", label: "nav.police", roles: POLICE },
  { path: "/household", label: "resident.nav.household", roles: RESIDENT },
  { path: "/access", label: "resident.nav.access", roles: RESIDENT },
  { path: "/visitors", label: "resident.nav.visitors", roles: RESIDENT },
  { path: "/consent", label: "resident.nav.consent", roles: RESIDENT },
  { path: "/notices", label: "notices.nav", roles: null },
];

const routes = {
  "/login": { public: true, render: (main) => renderLogin(main, ctx) },
  "/home": { render: (main) => renderHome(main, ctx) },
  "/notices": { render: (main) => renderNotices(main, ctx) },
  "/alerts": { roles: STAFF, render: (main) => renderAlertBoard(main, ctx) },
  "/areas": { roles: STAFF, render: (main) => renderAreas(main, ctx) },
  "/devices": { roles: STAFF, render: (main) => renderDevices(main, ctx) },
  "/system": { roles: ["admin"], render: (main) => renderAdmin(main, ctx) },
  "/history": {
    roles: [...STAFF, "resident"],
    render: (main) => renderHistory(main, ctx),
  },
  "/police": { roles: POLICE, render: (main) => renderPolice(main, ctx) },
  "/household": { roles: RESIDENT, render: (main) => renderResidentHousehold(main, ctx) },
  "/access": { roles: RESIDENT, render: (main) => renderResidentAccess(main, ctx) },
  "/visitors": { roles: RESIDENT, render: (main) => renderResidentVisitors(main, ctx) },
  "/consent": { roles: RESIDENT, render: (main) => renderResidentConsent(main, ctx) },
};

const forbidden = {
  render(main) {
    main.append(h("h1", {}, t("forbidden.title")), h("p", {}, t("forbidden.text")));
  },
};

function resolve(path, table) {
  const route = table[path];
  if (!ctx.user) return path === "/login" ? { route } : { redirect: "/login" };
  if (!route || route.public) return { redirect: "/home" };
  if (route.roles && !route.roles.includes(ctx.user.role)) return { route: forbidden };
  return { route };
}

const router = new Router(routes, resolve);

/** Say something to screen-reader users (and keep it for tests to read). */
function announce(text) {
  const region = document.getElementById("announcer");
  region.textContent = "";
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}

function startConnection() {
  ctx.connection = new HubConnection(ctx.session);
  ctx.connection.addEventListener("state", (event) => {
    if (event.detail === "expired") expire();
  });
}

function expire() {
  if (!ctx.user) return;
  ctx.connection?.close();
  ctx.connection = null;
  ctx.user = null;
  ctx.areas = null;
  ctx.notice = "login.expired";
  renderChrome();
  router.go("/login");
}

async function login(username, password) {
  await ctx.session.login(username, password);
  ctx.user = await ctx.session.json("/api/linli/me");
  startConnection();
  renderChrome();
  router.go("/home");
}

async function logout() {
  ctx.connection?.close();
  ctx.connection = null;
  ctx.user = null;
  ctx.areas = null;
  await ctx.session.logout();
  ctx.notice = "login.logged_out";
  renderChrome();
  announce(t("login.logged_out"));
  router.go("/login");
}

function renderNav() {
  const nav = document.getElementById("nav");
  nav.replaceChildren();
  if (!ctx.user) {
    nav.hidden = true;
    return;
  }
  const items = NAV.filter((item) => !item.roles || item.roles.includes(ctx.user.role));
  nav.append(
    h(
      "ul",
      {},
      items.map((item) =>
        h(
          "li",
          {},
          h(
            "a",
            {
              href: `#${item.path}`,
              "aria-current": router.path === item.path ? "page" : null,
            },
            t(item.label),
          ),
        ),
      ),
    ),
  );
  nav.hidden = false;
}

function renderTools() {
  const tools = document.getElementById("tools");
  const other = i18n.currentLanguage() === "en" ? "zh-CN" : "en";
  tools.replaceChildren();
  append(tools, [
    h(
      "button",
      {
        type: "button",
        id: "language-switch",
        class: "button-quiet",
        lang: other,
        title: t("language.switch"),
        onclick: () => switchLanguage(other),
      },
      other === "en" ? "English" : "中文",
    ),
    ctx.user
      ? [
          h(
            "span",
            { class: "who" },
            h("span", { class: "who-name" }, ctx.user.name),
            " · ",
            h("span", { class: "who-role" }, t(`role.${ctx.user.role}`)),
          ),
          h(
            "button",
            { type: "button", id: "logout", class: "button-quiet", onclick: () => logout() },
            t("nav.logout"),
          ),
        ]
      : null,
  ]);
}

function hubName() {
  const names = boot.names || {};
  return names[i18n.currentLanguage()] || boot.hubName;
}

function renderChrome() {
  document.getElementById("hub-name").textContent = hubName();
  document.title = `${hubName()} · ${t("app.name")}`;
  document.querySelector(".skip-link").textContent = t("app.skip");
  document.getElementById("nav").setAttribute("aria-label", t("nav.label"));
  renderNav();
  renderTools();
}

async function switchLanguage(next) {
  try {
    await i18n.setLanguage(next);
  } catch {
    announce(t("language.failed"));
    return;
  }
  renderChrome();
  await router.render();
  document.getElementById("language-switch").focus();
  announce(t("language.changed"));
}

document.addEventListener("linli:route", renderNav);

async function start() {
  const saved = i18n.savedLanguage();
  if (saved && saved !== i18n.currentLanguage()) {
    await i18n.setLanguage(saved).catch(() => {});
  }
  if (ctx.session.loggedIn) {
    try {
      ctx.user = await ctx.session.json("/api/linli/me");
      startConnection();
    } catch (error) {
      if (!(error instanceof SessionExpired)) ctx.notice = "app.unreachable";
      ctx.user = null;
    }
  }
  renderChrome();
  await router.render();
}

start();
