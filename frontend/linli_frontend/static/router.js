// A hash router: #/login, #/home, #/alerts, #/police. Each page renders into <main> and may
// return a function that stops what it started (subscriptions, timers).

export class Router {
  constructor(routes, resolve) {
    this.routes = routes;
    this.resolve = resolve;
    this.cleanup = null;
    this.serial = 0;
    window.addEventListener("hashchange", () => this.render());
  }

  /** The current route's path (without "#"). */
  get path() {
    const path = location.hash.replace(/^#/, "") || "/";
    return path.split("?")[0];
  }

  /** Go to path; renders even if it is the current one. */
  go(path) {
    if (`#${path}` === location.hash) {
      this.render();
    } else {
      location.hash = path;
    }
  }

  /** Render the current route into main (focus moves to its heading). */
  async render() {
    const serial = ++this.serial;
    if (this.cleanup) {
      const cleanup = this.cleanup;
      this.cleanup = null;
      await cleanup();
    }
    const { route, redirect } = this.resolve(this.path, this.routes);
    if (redirect) {
      this.go(redirect);
      return;
    }
    const main = document.getElementById("main");
    main.replaceChildren();
    const cleanup = await route.render(main);
    if (serial !== this.serial) {
      if (cleanup) await cleanup();
      return;
    }
    this.cleanup = cleanup || null;
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
    document.dispatchEvent(new CustomEvent("linli:route", { detail: this.path }));
  }
}
