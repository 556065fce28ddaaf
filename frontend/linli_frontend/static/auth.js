// Logging in and staying logged in: short-lived access tokens from POST /auth/token,
// renewed with the refresh token kept on this device.

const REFRESH_KEY = "linli.refresh_token";
const EARLY_REFRESH_MS = 60_000;

/** A login the hub refused: kind is "invalid", "locked", "unreachable" or "failed". */
export class LoginError extends Error {
  constructor(kind, retryAfter = 0) {
    super(kind);
    this.kind = kind;
    this.retryAfter = retryAfter;
  }
}

/** The refresh token is gone or no longer valid: the user has to log in again. */
export class SessionExpired extends Error {
  constructor() {
    super("session expired");
  }
}

/** An HTTP request the hub answered with an error status. */
export class HttpError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

function postToken(fields) {
  return fetch("/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
    cache: "no-store",
    credentials: "same-origin",
  });
}

/** One user's tokens in this browser. */
export class Session {
  constructor() {
    this.refreshToken = localStorage.getItem(REFRESH_KEY);
    this.access = null;
    this.expiresAt = 0;
    this.pending = null;
  }

  get loggedIn() {
    return Boolean(this.refreshToken);
  }

  /** Log in with a password; throws LoginError. */
  async login(username, password) {
    let response;
    try {
      response = await postToken({ grant_type: "password", username, password });
    } catch {
      throw new LoginError("unreachable");
    }
    if (response.status === 429) {
      const seconds = Number.parseInt(response.headers.get("Retry-After") || "", 10);
      throw new LoginError("locked", Number.isFinite(seconds) ? seconds : 60);
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new LoginError(body.error === "invalid_grant" ? "invalid" : "failed");
    }
    this.refreshToken = body.refresh_token;
    localStorage.setItem(REFRESH_KEY, body.refresh_token);
    this.keep(body);
  }

  keep(body) {
    this.access = body.access_token;
    this.expiresAt = Date.now() + Number(body.expires_in) * 1000;
  }

  /** A valid access token, refreshed when it is about to expire (or when force is set). */
  async accessToken({ force = false } = {}) {
    if (!this.refreshToken) throw new SessionExpired();
    if (!force && this.access && Date.now() < this.expiresAt - EARLY_REFRESH_MS) {
      return this.access;
    }
    if (!this.pending) {
      this.pending = this.refresh().finally(() => {
        this.pending = null;
      });
    }
    return this.pending;
  }

  async refresh() {
    const response = await postToken({
      grant_type: "refresh_token",
      refresh_token: this.refreshToken,
    });
    if (response.status === 400 || response.status === 401) {
      this.forget();
      throw new SessionExpired();
    }
    if (!response.ok) throw new HttpError(response.status);
    this.keep(await response.json());
    return this.access;
  }

  /** Fetch with the access token (retried once with a fresh token on 401). */
  async fetch(path, options = {}) {
    for (const force of [false, true]) {
      const token = await this.accessToken({ force });
      const response = await fetch(path, {
        ...options,
        headers: { ...(options.headers || {}), Authorization: `Bearer ${token}` },
      });
      if (response.status !== 401) {
        if (!response.ok) throw new HttpError(response.status);
        return response;
      }
    }
    this.forget();
    throw new SessionExpired();
  }

  /** GET a JSON document of the API. */
  async json(path) {
    return (await this.fetch(path, { headers: { Accept: "application/json" } })).json();
  }

  /** Revoke the refresh token on the hub and forget it here. */
  async logout() {
    const token = this.refreshToken;
    this.forget();
    if (token) {
      try {
        await postToken({ action: "revoke", token });
      } catch {
        // Offline: the token is forgotten here all the same and expires on the hub.
      }
    }
  }

  forget() {
    this.refreshToken = null;
    this.access = null;
    this.expiresAt = 0;
    localStorage.removeItem(REFRESH_KEY);
  }
}
