// The hub's WebSocket API (Home Assistant's protocol): the auth phase, numbered commands,
// subscriptions that survive reconnecting, and the connection's state for the UI.

import { SessionExpired } from "./auth.js";

const MAX_BACKOFF_MS = 30_000;

/** A command the hub answered with success: false. */
export class CommandError extends Error {
  constructor(error) {
    super(error?.message || "command failed");
    this.code = error?.code || "unknown_error";
  }
}

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/api/websocket`;
}

/** Resolve "ok", "invalid" or "closed" once the auth phase of socket is over. */
function authenticate(socket, token) {
  return new Promise((resolve) => {
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "auth_required") {
        socket.send(JSON.stringify({ type: "auth", access_token: token }));
      } else {
        resolve(data.type === "auth_ok" ? "ok" : "invalid");
      }
    };
    socket.onclose = () => resolve("closed");
    socket.onerror = () => resolve("closed");
  });
}

/**
 * One connection to the hub. Dispatches "state" events (detail: "connecting", "live",
 * "reconnecting", "expired") so pages can say whether what they show is live.
 */
export class HubConnection extends EventTarget {
  constructor(session) {
    super();
    this.session = session;
    this.socket = null;
    this.nextId = 1;
    this.pending = new Map();
    this.subscriptions = new Set();
    this.byId = new Map();
    this.opening = null;
    this.closed = false;
    this.backoff = 1000;
    this.timer = null;
    this.state = "connecting";
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  /** Connect (once); resolves when authenticated. */
  connect() {
    if (!this.opening) {
      this.opening = this.open().catch((error) => {
        this.opening = null;
        throw error;
      });
    }
    return this.opening;
  }

  async open() {
    let force = false;
    for (;;) {
      const token = await this.session.accessToken({ force });
      const socket = new WebSocket(socketUrl());
      const result = await authenticate(socket, token);
      if (this.closed) {
        socket.close();
        throw new Error("closed");
      }
      if (result === "ok") {
        this.attach(socket);
        return;
      }
      if (result === "invalid" && !force) {
        force = true;
        continue;
      }
      if (result === "invalid") {
        this.session.forget();
        this.setState("expired");
        throw new SessionExpired();
      }
      throw new Error("the hub did not answer");
    }
  }

  attach(socket) {
    this.socket = socket;
    this.backoff = 1000;
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = () => this.lost();
    socket.onerror = () => {};
    this.send({ type: "supported_features", features: { coalesce_messages: 1 } });
    this.byId.clear();
    for (const subscription of this.subscriptions) this.start(subscription);
    this.setState("live");
  }

  lost() {
    this.socket = null;
    this.opening = null;
    for (const { reject } of this.pending.values()) reject(new Error("connection lost"));
    this.pending.clear();
    if (this.closed) return;
    this.setState("reconnecting");
    this.timer = setTimeout(() => this.reconnect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }

  async reconnect() {
    this.timer = null;
    try {
      await this.connect();
    } catch (error) {
      if (error instanceof SessionExpired) {
        this.setState("expired");
      } else if (!this.closed) {
        this.lost();
      }
    }
  }

  receive(text) {
    const data = JSON.parse(text);
    for (const message of Array.isArray(data) ? data : [data]) {
      if (message.type === "event") {
        const subscription = this.byId.get(message.id);
        if (subscription) subscription.onEvent(message.event);
        continue;
      }
      const waiting = this.pending.get(message.id);
      if (!waiting) continue;
      this.pending.delete(message.id);
      if (message.type === "pong" || message.success) waiting.resolve(message.result);
      else waiting.reject(new CommandError(message.error));
    }
  }

  send(message) {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ ...message, id }));
    return id;
  }

  /** Send a command; resolves with its result, rejects with CommandError. */
  async command(type, data = {}) {
    await this.connect();
    return new Promise((resolve, reject) => {
      const id = this.send({ ...data, type });
      this.pending.set(id, { resolve, reject });
    });
  }

  start(subscription) {
    const id = this.send({ ...subscription.message });
    subscription.id = id;
    this.byId.set(id, subscription);
    this.pending.set(id, {
      resolve: () => {},
      reject: (error) => subscription.onError?.(error),
    });
  }

  /**
   * Subscribe (message: {type, …}); onEvent gets each event, again from the start after a
   * reconnect. Returns a function that ends the subscription.
   */
  async subscribe(message, onEvent, onError) {
    await this.connect();
    const subscription = { message, onEvent, onError, id: null };
    this.subscriptions.add(subscription);
    this.start(subscription);
    return () => {
      this.subscriptions.delete(subscription);
      if (subscription.id !== null) this.byId.delete(subscription.id);
      if (this.socket && this.socket.readyState === WebSocket.OPEN && subscription.id !== null) {
        this.send({ type: "unsubscribe_events", subscription: subscription.id });
      }
    };
  }

  /** Close for good (logging out). */
  close() {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.subscriptions.clear();
    this.byId.clear();
    if (this.socket) this.socket.close();
    this.socket = null;
  }
}
