// framewatch page: paste or drop an article, see every sentence scored, the framed ones highlighted with the
// words behind each label. Talks only to this server's own API; no external resources.
"use strict";

const PALETTE = [
  { bg: "#ffd8a8", line: "#9a4a05" },
  { bg: "#c5e3ff", line: "#1a5a99" },
  { bg: "#c8f2cf", line: "#1e6f31" },
  { bg: "#f3cdf9", line: "#842693" },
  { bg: "#fff0a0", line: "#6f5b00" },
  { bg: "#ffd0d0", line: "#9c1c1c" },
];
const KEY_STORAGE = "framewatch-api-key";

const state = {
  model: null, // GET /v1/model
  labels: [], // [{id, name, description, threshold}]
  thresholds: {}, // label id -> current threshold (the server's until a slider moves)
  custom: false, // a slider has moved: labels are recomputed here from the scores
  fileTexts: null, // sentences read from a .jsonl or .csv file, scored as given
  fileName: "",
  result: null, // {mode, model, text, sentences: [{text, start, end, scores, labels, windows, evidence}]}
};

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function errorMessage(status, body, retryAfter) {
  const detail = body && body.error ? body.error.message || String(body.error) : "";
  const retry = retryAfter ? ` Try again in ${retryAfter} s.` : "";
  switch (status) {
    case 401:
      return `The server needs a valid API key (401). Enter it in the API key field and try again. ${detail}`;
    case 403:
      return `This key is not allowed to do that (403). ${detail}`;
    case 413:
      return `The request is larger than this server accepts (413): ${detail}`;
    case 422:
      return `The server could not accept this input (422): ${detail}`;
    case 503:
      return `The server is busy or not ready (503).${retry} ${detail}`;
    default:
      return `The request failed (${status}). ${detail}`;
  }
}

async function api(path, payload) {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers.Authorization = `Bearer ${key}`;
  const options = { method: payload === undefined ? "GET" : "POST", headers };
  if (payload !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(payload);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new ApiError(0, `Cannot reach the server: ${err.message}`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, body, response.headers.get("Retry-After")));
  return body;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function setStatus(message) {
  $("status").textContent = message;
}

function colour(index) {
  return PALETTE[index % PALETTE.length];
}

// ---- the model and its labels ---------------------------------------------------------------------------------

async function loadModel() {
  const model = await api("v1/model");
  state.model = model;
  state.labels = model.labels;
  state.thresholds = Object.fromEntries(model.labels.map((l) => [l.id, l.threshold]));
  state.custom = false;
  $("model-line").textContent = `Model ${model.checkpoint_id} (base ${model.base_model}, ${model.device}, ${model.dtype}).`;
  renderLegend();
}

function renderLegend() {
  const legend = $("legend");
  legend.replaceChildren();
  state.labels.forEach((label, k) => {
    const item = document.createElement("li");
    item.dataset.label = label.id;
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.style.background = colour(k).bg;
    chip.style.borderColor = colour(k).line;
    chip.textContent = String(k + 1);
    const name = document.createElement("strong");
    name.className = "label-name";
    name.textContent = label.name;
    const id = document.createElement("code");
    id.textContent = ` ${label.id}`;
    const description = document.createElement("div");
    description.className = "muted";
    description.textContent = label.description;
    item.append(chip, name, id, description);
    legend.append(item);
  });
}

// ---- input: pasted text or a dropped file -------------------------------------------------------------------

function parseCsv(text) {
  // RFC 4180: quoted fields may hold commas, quotes ("") and newlines.
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function textsFromFile(name, content) {
  const problems = [];
  const texts = [];
  if (name.toLowerCase().endsWith(".jsonl")) {
    content.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const row = JSON.parse(line);
        if (typeof row.text !== "string" || !row.text.trim()) problems.push(`${name}:${i + 1}: no non-empty "text" field`);
        else texts.push(row.text);
      } catch (err) {
        problems.push(`${name}:${i + 1}: not valid JSON`);
      }
    });
  } else {
    const rows = parseCsv(content);
    const column = rows.length ? rows[0].indexOf("text") : -1;
    if (column < 0) throw new Error(`${name}: the first row must name a "text" column`);
    rows.slice(1).forEach((row, i) => {
      if (row.length === 1 && row[0] === "") return;
      const text = row[column];
      if (typeof text !== "string" || !text.trim()) problems.push(`${name}:${i + 2}: empty "text"`);
      else texts.push(text);
    });
  }
  if (problems.length) throw new Error(`${problems.length} malformed row(s): ${problems.slice(0, 5).join("; ")}`);
  if (!texts.length) throw new Error(`${name}: no sentences found`);
  return texts;
}

async function readFile(file) {
  showError("");
  const content = await file.text();
  if (file.name.toLowerCase().endsWith(".txt") || !/\.(jsonl|csv)$/i.test(file.name)) {
    state.fileTexts = null;
    $("article").value = content;
    setStatus(`Loaded ${file.name}: it will be split into sentences.`);
    return;
  }
  try {
    state.fileTexts = textsFromFile(file.name, content);
  } catch (err) {
    state.fileTexts = null;
    showError(err.message);
    return;
  }
  state.fileName = file.name;
  $("article").value = state.fileTexts.join("\n");
  setStatus(`Loaded ${state.fileTexts.length} sentences from ${file.name}; each is scored as given.`);
}

// ---- scoring ----------------------------------------------------------------------------------------------------

function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function classifyAll(texts, explain) {
  const limits = state.model.limits;
  const size = explain ? Math.max(1, Math.min(limits.max_texts_per_request, limits.max_explain_sentences)) : limits.max_texts_per_request;
  const results = [];
  for (const part of chunks(texts, size)) {
    const answer = await api("v1/classify", { texts: part, explain });
    results.push(...answer.results);
    state.result && (state.result.model = answer.model);
  }
  return results;
}

async function score() {
  showError("");
  const text = $("article").value;
  if (!text.trim()) {
    showError("Paste an article or choose a file first.");
    return;
  }
  const button = $("analyze");
  button.disabled = true;
  setStatus("Scoring…");
  try {
    if (!state.model) await loadModel();
    let result;
    if (state.fileTexts) {
      const limit = state.model.limits.max_chars_per_text;
      const long = state.fileTexts.findIndex((t) => t.length > limit);
      if (long >= 0) throw new ApiError(422, `Sentence ${long + 1} of ${state.fileName} has more than ${limit} characters (the server's limit).`);
      const results = await classifyAll(state.fileTexts, false);
      result = {
        mode: "sentences",
        model: state.model.checkpoint_id,
        text: null,
        sentences: results.map((r, i) => ({ text: state.fileTexts[i], start: null, end: null, ...r })),
      };
    } else {
      const answer = await api("v1/analyze", { text });
      result = { mode: "article", model: answer.model, text, sentences: answer.sentences };
    }
    result.sentences.forEach((s, i) => {
      s.index = i;
      s.serverLabels = s.labels;
    });
    state.result = result;
    renderResult();
    setStatus(`Scored ${result.sentences.length} sentences with ${result.model}. Loading the evidence…`);
    await loadEvidence();
  } catch (err) {
    showError(err.message);
    setStatus("");
  } finally {
    button.disabled = false;
  }
}

async function loadEvidence() {
  const result = state.result;
  const flagged = result.sentences.filter((s) => s.serverLabels.length);
  if (!flagged.length) {
    setStatus(`Scored ${result.sentences.length} sentences with ${result.model}; none carries a label.`);
    return;
  }
  if (!state.model.limits.max_explain_sentences) {
    setStatus(`Scored ${result.sentences.length} sentences. This server does not explain its flags.`);
    return;
  }
  const explained = await classifyAll(flagged.map((s) => s.text), true);
  explained.forEach((r, i) => {
    flagged[i].evidence = r.evidence || {};
  });
  setStatus(
    `Scored ${result.sentences.length} sentences with ${result.model}; ${flagged.length} carry a label. ` +
      "Hover over or focus a sentence for its scores and evidence."
  );
  const active = document.querySelector(".sentence.active");
  if (active) showDetails(result.sentences[Number(active.dataset.index)]);
}

// ---- rendering --------------------------------------------------------------------------------------------------

function labelsOf(sentence) {
  if (!state.custom) return sentence.serverLabels;
  return state.labels.filter((l) => sentence.scores[l.id] >= state.thresholds[l.id]).map((l) => l.id);
}

function labelIndex(id) {
  return state.labels.findIndex((l) => l.id === id);
}

function paintSentence(node, sentence) {
  const labels = labelsOf(sentence);
  node.dataset.labels = labels.join(" ");
  node.classList.toggle("flagged", labels.length > 0);
  const colours = labels.map((id) => colour(labelIndex(id)).bg);
  if (!colours.length) node.style.background = "";
  else if (colours.length === 1) node.style.background = colours[0];
  else {
    const stops = colours.map((c, i) => `${c} ${i * 10}px ${(i + 1) * 10}px`).join(", ");
    node.style.background = `repeating-linear-gradient(135deg, ${stops})`;
  }
  const badges = node.querySelector(".badges");
  badges.replaceChildren();
  for (const id of labels) {
    const k = labelIndex(id);
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.style.background = colour(k).bg;
    badge.style.borderColor = colour(k).line;
    badge.textContent = String(k + 1);
    badge.title = state.labels[k].name;
    badges.append(badge);
  }
  node.setAttribute("aria-label", `Sentence ${sentence.index + 1}: ${labels.length ? labels.map((id) => state.labels[labelIndex(id)].name).join(", ") : "no label"}`);
}

function sentenceNode(sentence) {
  const node = document.createElement("span");
  node.className = "sentence";
  node.tabIndex = 0;
  node.dataset.index = String(sentence.index);
  const body = document.createElement("span");
  body.className = "sentence-text";
  body.textContent = sentence.text;
  const badges = document.createElement("span");
  badges.className = "badges";
  node.append(body, badges);
  const activate = () => {
    document.querySelectorAll(".sentence.active").forEach((n) => n.classList.remove("active"));
    node.classList.add("active");
    showDetails(sentence);
  };
  node.addEventListener("mouseenter", activate);
  node.addEventListener("focus", activate);
  paintSentence(node, sentence);
  return node;
}

function renderResult() {
  const result = state.result;
  const view = $("article-view");
  view.replaceChildren();
  let cursor = 0;
  for (const sentence of result.sentences) {
    if (result.mode === "article") {
      if (sentence.start > cursor) {
        const gap = document.createElement("span");
        gap.className = "gap";
        gap.textContent = result.text.slice(cursor, sentence.start);
        view.append(gap);
      }
      cursor = sentence.end;
    } else if (sentence.index > 0) {
      const gap = document.createElement("span");
      gap.className = "gap";
      gap.textContent = "\n";
      view.append(gap);
    }
    view.append(sentenceNode(sentence));
  }
  $("results").hidden = false;
  renderSummary();
}

function repaint() {
  for (const node of document.querySelectorAll(".sentence")) paintSentence(node, state.result.sentences[Number(node.dataset.index)]);
  updateSummary();
  const active = document.querySelector(".sentence.active");
  if (active) showDetails(state.result.sentences[Number(active.dataset.index)]);
}

function renderSummary() {
  const summary = $("summary");
  summary.replaceChildren();
  state.labels.forEach((label, k) => {
    const row = document.createElement("div");
    row.className = "bar-row";
    row.dataset.label = label.id;
    const name = document.createElement("span");
    name.textContent = `${k + 1}. ${label.name}`;
    const track = document.createElement("div");
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.background = colour(k).bg;
    bar.style.borderColor = colour(k).line;
    track.append(bar);
    const count = document.createElement("span");
    count.className = "count";
    row.append(name, track, count);
    const slider = document.createElement("div");
    slider.className = "slider";
    const sliderId = `threshold-${k}`;
    const sliderLabel = document.createElement("label");
    sliderLabel.className = "inline";
    sliderLabel.htmlFor = sliderId;
    sliderLabel.textContent = "threshold";
    const input = document.createElement("input");
    input.type = "range";
    input.id = sliderId;
    input.min = "0";
    input.max = "1";
    input.step = "0.01";
    input.value = String(state.thresholds[label.id]);
    input.dataset.label = label.id;
    const value = document.createElement("output");
    value.htmlFor = sliderId;
    value.textContent = Number(state.thresholds[label.id]).toFixed(2);
    input.addEventListener("input", () => {
      state.thresholds[label.id] = Number(input.value);
      state.custom = true;
      value.textContent = Number(input.value).toFixed(2);
      repaint();
    });
    slider.append(sliderLabel, input, value);
    summary.append(row, slider);
  });
  const reset = document.createElement("button");
  reset.type = "button";
  reset.className = "secondary";
  reset.textContent = "Server thresholds";
  reset.addEventListener("click", () => {
    state.thresholds = Object.fromEntries(state.labels.map((l) => [l.id, l.threshold]));
    state.custom = false;
    renderSummary();
    repaint();
  });
  summary.append(reset);
  updateSummary();
}

function updateSummary() {
  const sentences = state.result.sentences;
  const total = sentences.length;
  const anyLabel = sentences.filter((s) => labelsOf(s).length).length;
  $("summary-line").textContent = `${total} sentences; ${anyLabel} carry at least one label.`;
  state.labels.forEach((label) => {
    const row = document.querySelector(`.bar-row[data-label="${label.id}"]`);
    const n = sentences.filter((s) => labelsOf(s).includes(label.id)).length;
    const share = total ? n / total : 0;
    row.querySelector(".bar").style.width = `${Math.max(share * 100, 0.5)}%`;
    row.querySelector(".count").textContent = `${n} (${(share * 100).toFixed(1)}%)`;
  });
}

function evidenceText(sentence, spans) {
  // The sentence with the evidence words of one label marked.
  const out = document.createElement("p");
  let cursor = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < cursor) continue;
    out.append(document.createTextNode(sentence.text.slice(cursor, span.start)));
    const mark = document.createElement("mark");
    mark.className = "evidence";
    mark.textContent = sentence.text.slice(span.start, span.end);
    out.append(mark);
    cursor = span.end;
  }
  out.append(document.createTextNode(sentence.text.slice(cursor)));
  return out;
}

function showDetails(sentence) {
  const panel = $("details");
  panel.replaceChildren();
  const heading = document.createElement("h3");
  heading.textContent = `Sentence ${sentence.index + 1}` + (sentence.windows > 1 ? ` (long: ${sentence.windows} model windows)` : "");
  panel.append(heading);
  const labels = labelsOf(sentence);
  const table = document.createElement("table");
  const head = table.insertRow();
  for (const title of ["Label", "Score", "Threshold", ""]) {
    const th = document.createElement("th");
    th.textContent = title;
    head.append(th);
  }
  state.labels.forEach((label) => {
    const row = table.insertRow();
    row.insertCell().textContent = label.name;
    row.insertCell().textContent = sentence.scores[label.id].toFixed(3);
    row.insertCell().textContent = Number(state.thresholds[label.id]).toFixed(2);
    row.insertCell().textContent = labels.includes(label.id) ? "flagged" : "";
  });
  panel.append(table);
  for (const id of labels) {
    const k = labelIndex(id);
    const title = document.createElement("h3");
    title.textContent = `Why ${state.labels[k].name}`;
    panel.append(title);
    const spans = sentence.evidence && sentence.evidence[id];
    if (!spans) {
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = sentence.evidence
        ? "No evidence: the server flags this label only at a lower threshold than its own."
        : "Evidence is loading, or was not computed for this sentence.";
      panel.append(note);
      continue;
    }
    panel.append(evidenceText(sentence, spans));
    const words = document.createElement("p");
    words.className = "muted";
    words.textContent = spans.length
      ? "Words whose deletion lowers the score most: " + spans.map((s) => `${s.text} (−${s.weight.toFixed(3)})`).join(", ")
      : "No single word carries the score: it comes from the sentence as a whole.";
    panel.append(words);
  }
}

// ---- downloads ---------------------------------------------------------------------------------------------------

function rows() {
  return state.result.sentences.map((s) => ({
    index: s.index,
    start: s.start,
    end: s.end,
    text: s.text,
    labels: labelsOf(s),
    scores: s.scores,
    windows: s.windows,
    evidence: s.evidence || null,
  }));
}

function download(name, type, content) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function csvField(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function downloadJson() {
  const payload = { model: state.result.model, thresholds: state.thresholds, sentences: rows() };
  download("framewatch-result.json", "application/json", JSON.stringify(payload, null, 2));
}

function downloadCsv() {
  const ids = state.labels.map((l) => l.id);
  const lines = [["index", "start", "end", "text", "labels", ...ids.map((id) => `score_${id}`), "windows"].join(",")];
  for (const r of rows()) {
    lines.push([r.index, r.start, r.end, r.text, r.labels.join(";"), ...ids.map((id) => r.scores[id]), r.windows].map(csvField).join(","));
  }
  download("framewatch-result.csv", "text/csv", lines.join("\r\n") + "\r\n");
}

// ---- wiring ------------------------------------------------------------------------------------------------------

function init() {
  const keyInput = $("api-key");
  keyInput.value = sessionStorage.getItem(KEY_STORAGE) || "";
  keyInput.addEventListener("change", () => {
    if (keyInput.value) sessionStorage.setItem(KEY_STORAGE, keyInput.value);
    else sessionStorage.removeItem(KEY_STORAGE);
    if (!state.model) loadModel().then(() => showError(""), (err) => showError(err.message));
  });
  $("input-form").addEventListener("submit", (event) => {
    event.preventDefault();
    score();
  });
  const article = $("article");
  article.addEventListener("input", () => {
    state.fileTexts = null;
  });
  article.addEventListener("dragover", (event) => {
    event.preventDefault();
    article.classList.add("dragging");
  });
  article.addEventListener("dragleave", () => article.classList.remove("dragging"));
  article.addEventListener("drop", (event) => {
    event.preventDefault();
    article.classList.remove("dragging");
    const file = event.dataTransfer.files[0];
    if (file) readFile(file);
  });
  $("file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) readFile(file);
  });
  $("only-flagged").addEventListener("change", (event) => $("article-view").classList.toggle("only-flagged", event.target.checked));
  $("download-json").addEventListener("click", downloadJson);
  $("download-csv").addEventListener("click", downloadCsv);
  loadModel().catch((err) => {
    $("model-line").textContent = "Model description unavailable.";
    showError(err.message);
  });
}

init();
