// The live alert board of staff and grid workers: open alerts in their areas, updated as
// they happen, with acknowledge, assign and resolve; a chime for new ones if the user wants it.

import { alertCard, CardList } from "../alert-card.js";
import { ASSIGNING_ROLES, assignablePeople, assigneeLabel } from "../assign.js";
import { h, uid } from "../dom.js";
import { t } from "../i18n.js";
import { chime, setSound, soundEnabled } from "../sound.js";

const OPEN = new Set(["new", "acknowledged"]);
const RECENT_LIMIT = 10;

function order(a, b) {
  const rank = { emergency: 0, critical: 1, warning: 2, info: 3 };
  if (a.state !== b.state) return a.state === "new" ? -1 : 1;
  if (rank[a.severity] !== rank[b.severity]) return rank[a.severity] - rank[b.severity];
  return b.created_at.localeCompare(a.created_at);
}

export async function renderAlertBoard(main, ctx) {
  const open = new Map();
  const recent = [];
  let areas = new Map();
  // Filled before the first cards are drawn: people by name for admins, else roles only.
  const assign = ASSIGNING_ROLES.has(ctx.user?.role) ? { people: [] } : null;

  const live = h("p", { class: "live-state", id: "live-state", role: "status" }, t("board.connecting"));
  const soundId = uid("sound");
  const sound = h("input", { type: "checkbox", id: soundId, class: "switch" });
  sound.checked = soundEnabled();
  sound.addEventListener("change", () => setSound(sound.checked));
  const list = h("div", { class: "alert-list", id: "alert-list" });
  const empty = h("p", { class: "empty", id: "alert-empty" }, t("board.empty"));
  const recentList = h("div", { class: "alert-list", id: "recent-list" });
  const recentSection = h(
    "section",
    { "aria-labelledby": "recent-title", hidden: true },
    h("h2", { id: "recent-title" }, t("board.recent")),
    recentList,
  );

  const heading = h("h1", { tabindex: "-1" }, t("board.title"));
  main.append(
    heading,
    h(
      "div",
      { class: "toolbar" },
      live,
      h("div", { class: "toggle" }, sound, h("label", { for: soundId }, t("board.sound"))),
    ),
    h(
      "section",
      { "aria-labelledby": "open-alerts-title" },
      h("h2", { id: "open-alerts-title", class: "visually-hidden" }, t("board.open")),
      empty,
      list,
    ),
    recentSection,
  );

  const openCards = new CardList(list, (alert, urls) =>
    alertCard(ctx, alert, { manage: true, assign, areas, urls }),
  );
  const recentCards = new CardList(recentList, (alert, urls) =>
    alertCard(ctx, alert, { areas, urls, assign }),
  );

  function draw() {
    const hadFocus = list.contains(document.activeElement);
    const refocus = openCards.update([...open.values()].sort(order));
    recentCards.update(recent);
    empty.hidden = open.size > 0;
    recentSection.hidden = recent.length === 0;
    if (refocus) {
      refocus.focus();
    } else if (hadFocus && !list.contains(document.activeElement)) {
      heading.focus();
    }
  }

  function onEvent(event) {
    if (event.action === "snapshot") {
      open.clear();
      for (const alert of event.alerts) open.set(alert.id, alert);
      draw();
      return;
    }
    const alert = event.alert;
    if (!alert) return;
    if (OPEN.has(alert.state)) {
      open.set(alert.id, alert);
    } else {
      open.delete(alert.id);
      recent.unshift(alert);
      recent.splice(RECENT_LIMIT);
    }
    draw();
    if (event.action === "raised") {
      announceNew(alert);
    } else if (event.action === "resolved" || event.action === "acknowledged") {
      ctx.announce(t(`board.announce.${event.action}`, { title: alert.title }));
    } else if (event.action === "assigned" && alert.assignee) {
      ctx.announce(
        t("board.assign.announce", {
          title: alert.title,
          who: assigneeLabel(ctx, alert.assignee, assign?.people),
        }),
      );
    }
  }

  function announceNew(alert) {
    const area = areas.get(alert.area_id);
    ctx.announce(
      t("board.announce.raised", {
        severity: t(`severity.${alert.severity}`),
        title: alert.title,
        area: area ? area.name : "",
      }),
    );
    const card = list.querySelector(`[data-alert-id="${CSS.escape(alert.id)}"]`);
    card?.classList.add("arrived");
    chime();
  }

  const onState = (event) => {
    live.textContent = t(`board.state.${event.detail}`);
    live.dataset.state = event.detail;
  };
  ctx.connection.addEventListener("state", onState);

  let stop = null;
  try {
    areas = await ctx.areaIndex();
    if (assign) assign.people = await assignablePeople(ctx);
    stop = await ctx.connection.subscribe({ type: "linli/alerts/subscribe" }, onEvent);
    onState({ detail: ctx.connection.state });
  } catch {
    live.textContent = t("app.load_failed");
  }

  return () => {
    ctx.connection?.removeEventListener("state", onState);
    stop?.();
    openCards.clear();
    recentCards.clear();
  };
}
