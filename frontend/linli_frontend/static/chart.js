// Small charts drawn as inline SVG, without a library: a line chart of numbers over time and a
// timeline of an entity's states. Every chart is an image with a text description for screen
// readers; the numbers it shows are also offered as text by the page that uses it.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const PAD = { left: 76, right: 12, top: 12, bottom: 28 };
const MISSING = new Set(["unavailable", "unknown"]);
// Colours for states, distinguishable and at least 3:1 against white.
const PALETTE = ["#0b5cad", "#b3261e", "#1c7a3a", "#7a4fb3", "#a35a00", "#00727a", "#8a2a6b"];
const GREY = "#767676";

function s(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) element.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      element.append(child instanceof Node ? child : String(child));
    }
  }
  return element;
}

function frame(label, width, height) {
  return s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
    class: "chart",
    preserveAspectRatio: "xMinYMin meet",
  });
}

function timeLabel(ms, language) {
  return new Intl.DateTimeFormat(language, {
    month: "numeric",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(ms));
}

function round(value) {
  return Math.round(value * 100) / 100;
}

/** Whether a state is a number (the values a line chart can draw). */
export function isNumeric(state) {
  return typeof state === "string" && state.trim() !== "" && Number.isFinite(Number(state));
}

/** Whether a state means the entity had no value then (unavailable, unknown). */
export function isMissing(state) {
  return MISSING.has(state);
}

/**
 * A line chart: points are {t: ms, v: number|null} in time order (null: no value, a gap).
 * Options: label (the accessible description), start and end (ms), unit, language, height.
 */
export function lineChart(points, { label, start, end, unit = "", language = "en", height = 220 }) {
  const width = WIDTH;
  const svg = frame(label, width, height);
  const values = points.filter((point) => point.v !== null).map((point) => point.v);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (!values.length) {
    low = 0;
    high = 1;
  } else if (low === high) {
    low -= 1;
    high += 1;
  }
  const span = Math.max(end - start, 1);
  const x = (ms) => PAD.left + ((Math.min(Math.max(ms, start), end) - start) / span) * plotW;
  const y = (value) => PAD.top + (1 - (value - low) / (high - low)) * plotH;

  const grid = s("g", { class: "chart-grid", "aria-hidden": "true" });
  for (const value of [low, (low + high) / 2, high]) {
    grid.append(
      s("line", { x1: PAD.left, x2: width - PAD.right, y1: y(value), y2: y(value), stroke: "#c9d0d8" }),
      s(
        "text",
        { x: PAD.left - 6, y: y(value) + 4, "text-anchor": "end", "font-size": 12, fill: "#4d5560" },
        `${round(value)}${unit ? ` ${unit}` : ""}`,
      ),
    );
  }
  grid.append(
    s("text", { x: PAD.left, y: height - 8, "font-size": 12, fill: "#4d5560" }, timeLabel(start, language)),
    s(
      "text",
      { x: width - PAD.right, y: height - 8, "text-anchor": "end", "font-size": 12, fill: "#4d5560" },
      timeLabel(end, language),
    ),
  );
  svg.append(grid);

  // One polyline per run of values; a value holds until the next point (or the end).
  const runs = [];
  let run = null;
  points.forEach((point, index) => {
    if (point.v === null) {
      run = null;
      return;
    }
    if (!run) {
      run = [];
      runs.push(run);
    }
    run.push([x(point.t), y(point.v)]);
    const next = points[index + 1];
    const until = next ? next.t : end;
    run.push([x(until), y(point.v)]);
  });
  const lines = s("g", { class: "chart-line" });
  for (const part of runs) {
    lines.append(
      s("polyline", {
        points: part.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "),
        fill: "none",
        stroke: "#0b5cad",
        "stroke-width": 2,
        "stroke-linejoin": "round",
      }),
    );
  }
  for (const point of points) {
    if (point.v === null) continue;
    lines.append(
      s(
        "circle",
        { cx: x(point.t), cy: y(point.v), r: 3, fill: "#0b5cad", "data-value": point.v },
        s("title", {}, `${timeLabel(point.t, language)}: ${point.v}${unit ? ` ${unit}` : ""}`),
      ),
    );
  }
  svg.append(lines);
  return svg;
}

/** A state's colour slot in a timeline: a palette index, or "missing" (drawn grey). */
export function stateSlot(state, order) {
  if (isMissing(state)) return "missing";
  const index = order.indexOf(state);
  return String((index < 0 ? 0 : index) % PALETTE.length);
}

function stateColour(state, order) {
  const slot = stateSlot(state, order);
  return slot === "missing" ? GREY : PALETTE[Number(slot)];
}

/**
 * A timeline: spans are {from: ms, to: ms, state, text} in time order (text: the state as
 * people read it). Options: label, start, end, language, height.
 */
export function timeline(spans, { label, start, end, language = "en", height = 64 }) {
  const width = WIDTH;
  const svg = frame(label, width, height);
  const left = 12;
  const plotW = width - left - PAD.right;
  const span = Math.max(end - start, 1);
  const x = (ms) => left + ((Math.min(Math.max(ms, start), end) - start) / span) * plotW;
  const order = [...new Set(spans.map((item) => item.state).filter((state) => !isMissing(state)))];
  const bars = s("g", { class: "chart-timeline" });
  for (const item of spans) {
    const x1 = x(item.from);
    const x2 = x(item.to);
    bars.append(
      s(
        "rect",
        {
          x: x1,
          y: 8,
          width: Math.max(x2 - x1, 1),
          height: height - 36,
          fill: stateColour(item.state, order),
          "data-state": item.state,
        },
        s("title", {}, `${item.text}: ${timeLabel(item.from, language)} – ${timeLabel(item.to, language)}`),
      ),
    );
  }
  svg.append(
    bars,
    s(
      "g",
      { "aria-hidden": "true" },
      s("text", { x: left, y: height - 8, "font-size": 12, fill: "#4d5560" }, timeLabel(start, language)),
      s(
        "text",
        { x: width - PAD.right, y: height - 8, "text-anchor": "end", "font-size": 12, fill: "#4d5560" },
        timeLabel(end, language),
      ),
    ),
  );
  return { svg, order };
}
