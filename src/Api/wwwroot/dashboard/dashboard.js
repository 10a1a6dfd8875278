// The analyst dashboard: plain JavaScript and SVG, no build step and nothing fetched from outside the service.
"use strict";

const $ = (id) => document.getElementById(id);
const colours = ["#2f6fdf", "#e0672b", "#1f9d55", "#9b4dca", "#c9344a", "#0f8a9d", "#8a6d1f"];
const fmt = (v, d = 4) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));
const svgNs = "http://www.w3.org/2000/svg";

// A chart's top: the next 1, 2 or 5 × 10^k above the largest value, so that ticks read as round numbers.
function niceMax(max) {
  if (!(max > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * step).find((v) => v >= max * (1 - 1e-12));
}

// Enough decimals to tell the ticks 0, top/2 and top apart: 0.0004 never reads "0.000".
function tick(v, top) {
  const decimals = Math.max(0, Math.min(8, 1 - Math.floor(Math.log10(top / 2))));
  return v === 0 ? "0" : v.toFixed(decimals);
}

// A served list is credited to the model that served it on its surface; a series is one (model, surface) pair.
const series = (r) => `${r.model_version} · ${r.surface}`;

function el(tag, attrs = {}, text) {
  const node = tag === "svg" || ["line", "circle", "path", "text", "g", "title", "polyline"].includes(tag)
    ? document.createElementNS(svgNs, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + $("key").value } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || body.title || response.statusText);
  return body;
}

function query(extra = {}) {
  const params = new URLSearchParams();
  if ($("from").value) params.set("from", $("from").value + "T00:00:00Z");
  if ($("to").value) params.set("to", $("to").value + "T00:00:00Z");
  for (const id of ["surface", "model", "metric"]) if ($(id).value) params.set(id, $(id).value);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return "/v1/analytics/sessions?" + params.toString();
}

function fillSelect(select, values, keepEmpty) {
  const current = select.value;
  select.replaceChildren(...(keepEmpty ? [el("option", { value: "" }, "all")] : []), ...values.map((v) => el("option", { value: v }, v)));
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

async function load(event) {
  event?.preventDefault();
  localStorage.setItem("sessionrec-key", $("key").value);
  $("status").textContent = "Loading…";
  try {
    const report = await api(query({ worst: 20 }));
    render(report);
    $("status").textContent = `${report.sessions} sessions, ${report.requests} served lists` + (report.truncated ? " (still reading the log: newer records not yet counted)" : "");
  } catch (e) {
    $("status").textContent = "Could not load: " + e.message;
  }
}

function render(report) {
  $("summary").hidden = false;
  fillSelect($("surface"), report.surfaces, true);
  fillSelect($("model"), report.models, true);
  fillSelect($("metric"), report.metrics, false);
  $("metric").value = report.metric;
  fillSelect($("compare-a"), report.models, false);
  fillSelect($("compare-b"), report.models, false);
  if (report.models.length > 1 && $("compare-a").value === $("compare-b").value) $("compare-b").selectedIndex = 1;
  for (const th of document.querySelectorAll(".metric-name")) th.textContent = report.metric;
  $("sessions").textContent = report.sessions;
  $("requests").textContent = report.requests;
  $("records").textContent = report.records_read;

  $("models").tBodies[0].replaceChildren(...report.by_model.map((m) => {
    const row = el("tr", { "data-model": m.model_version, "data-surface": m.surface });
    for (const text of [m.model_version, m.surface, m.sessions, m.requests, fmt(m.metric), `${fmt(m.metric_low)}–${fmt(m.metric_high)}`,
      fmt(m.ctr), fmt(m.hr_at_10), fmt(m.mrr), fmt(m.conversion)]) row.append(el("td", {}, String(text)));
    return row;
  }));

  const charts = $("charts");
  charts.replaceChildren();
  for (const [field, title] of [["metric", report.metric], ["ctr", "CTR (lists with a click)"], ["hr_at_10", "HR@10"], ["conversion", "conversion (sessions with a purchase from a list)"]]) {
    charts.append(lineChart(field, title, report.by_day));
  }

  $("worst").tBodies[0].replaceChildren(...report.worst.map((w) => {
    const row = el("tr", { "data-session": w.session_id });
    for (const text of [w.session_id, w.user_id, new Date(w.start).toISOString().replace("T", " ").slice(0, 19), w.model_version, w.surface, w.requests, w.clicked_requests, fmt(w.metric)]) {
      row.append(el("td", {}, String(text)));
    }
    row.addEventListener("click", () => timeline(w.session_id));
    return row;
  }));
}

// One line per model version and surface over the days; every point carries its data for tooltips and tests.
function lineChart(field, title, rows) {
  const box = el("div", { class: "chart", "data-chart": field });
  box.append(el("h3", {}, title));
  const days = [...new Set(rows.map((r) => r.day))].sort();
  const models = [...new Set(rows.map(series))].sort();
  const width = 420, height = 180, left = 44, right = 10, top = 10, bottom = 24;
  const max = niceMax(Math.max(0, ...rows.map((r) => r[field] ?? 0)));
  const x = (day) => left + (days.length === 1 ? (width - left - right) / 2 : (days.indexOf(day) * (width - left - right)) / (days.length - 1));
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  svg.append(el("line", { class: "axis", x1: left, y1: y(0), x2: width - right, y2: y(0) }));
  svg.append(el("line", { class: "axis", x1: left, y1: top, x2: left, y2: y(0) }));
  for (const v of [0, max / 2, max]) svg.append(el("text", { class: "tick", x: left - 4, y: y(v) + 3, "text-anchor": "end" }, tick(v, max)));
  for (const day of days) svg.append(el("text", { class: "tick", x: x(day), y: height - 6, "text-anchor": "middle" }, day.slice(5)));
  const legend = el("div", { class: "legend" });
  models.forEach((model, i) => {
    const colour = colours[i % colours.length];
    const points = rows.filter((r) => series(r) === model && r[field] !== null).sort((a, b) => a.day.localeCompare(b.day));
    if (points.length > 1) {
      svg.append(el("polyline", { fill: "none", stroke: colour, "stroke-width": 2, points: points.map((p) => `${x(p.day)},${y(p[field])}`).join(" ") }));
    }
    for (const p of points) {
      const dot = el("circle", { class: "point", cx: x(p.day), cy: y(p[field]), r: 4, fill: colour, "data-day": p.day, "data-model": p.model_version, "data-surface": p.surface, "data-value": p[field] });
      dot.append(el("title", {}, `${model} ${p.day}: ${fmt(p[field])} (${p.sessions} sessions)`));
      svg.append(dot);
    }
    const key = el("span", { style: `--c:${colour}` }, model);
    legend.append(key);
  });
  box.append(svg, legend);
  return box;
}

async function compare(event) {
  event.preventDefault();
  const a = $("compare-a").value, b = $("compare-b").value;
  if (!a || !b || a === b) { $("comparison").textContent = "Pick two different model versions."; return; }
  try {
    const report = await api(query({ compare: `${a},${b}`, worst: 0 }));
    const c = report.comparison;
    $("comparison").textContent = `${c.metric}: ${c.b} − ${c.a} = ${fmt(c.difference)} (95% CI ${fmt(c.low)} to ${fmt(c.high)}; ${c.sessions_a} vs ${c.sessions_b} sessions)`;
  } catch (e) {
    $("comparison").textContent = "Could not compare: " + e.message;
  }
}

async function timeline(id) {
  try {
    const session = await api("/v1/analytics/sessions/" + encodeURIComponent(id));
    $("timeline").hidden = false;
    $("timeline-id").textContent = session.session_id;
    $("timeline-metrics").textContent = Object.entries(session.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(" · ");
    const lists = new Map(session.lists.map((l) => [l.request_id, l]));
    $("timeline-events").replaceChildren(...session.events.map((e) => {
      const item = el("li", { "data-type": e.type });
      const time = new Date(e.timestamp).toISOString().slice(11, 19);
      const what = e.type === "impression"
        ? `${e.surface} list ${e.request_id} from ${e.model_version}`
        : [e.type, e.item_id ?? e.query, e.request_id ? `from ${e.request_id} at ${e.position ?? "?"}` : ""].filter(Boolean).join(" ");
      item.append(`${time} ${what}`);
      const list = e.type === "impression" ? lists.get(e.request_id) : null;
      if (list) {
        const hits = new Set(list.feedback.map((f) => f.position));
        const shown = el("div", { class: "shown" });
        list.shown.forEach((id, i) => shown.append(el("span", { class: hits.has(i + 1) ? "hit" : "" }, `${i + 1}. ${id}  `)));
        item.append(shown);
      }
      return item;
    }));
    $("timeline").scrollIntoView();
  } catch (e) {
    $("status").textContent = "Could not load the session: " + e.message;
  }
}

$("filters").addEventListener("submit", load);
$("compare").addEventListener("submit", compare);
const fromHash = new URLSearchParams(location.hash.slice(1)).get("key");
$("key").value = fromHash || localStorage.getItem("sessionrec-key") || "";
if ($("key").value) load();
