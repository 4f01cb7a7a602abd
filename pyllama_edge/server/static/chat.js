// The chat page: talks to this server's /v1/chat/completions (streamed over SSE), keeps the
// conversation and settings in localStorage. No dependencies, no build step.
"use strict";

const STORE = "pyllama-edge-chat";
const $ = (id) => document.getElementById(id);
const settingIds = ["system", "temperature", "top-p", "max-tokens", "seed", "api-key"];

let state = load();
let modelId = null;
let running = null;  // the AbortController of the answer being streamed

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) || "{}");
    return { messages: Array.isArray(saved.messages) ? saved.messages : [], settings: saved.settings || {} };
  } catch (e) {
    return { messages: [], settings: {} };
  }
}

function save() {
  for (const id of settingIds) state.settings[id] = $(id).value;
  localStorage.setItem(STORE, JSON.stringify(state));
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

// One message box; returns the element whose text the stream updates.
function addMessage(message) {
  const box = document.createElement("div");
  box.className = "message " + message.role;
  const head = document.createElement("div");
  head.className = "role";
  const who = document.createElement("span");
  who.textContent = message.role === "user" ? "You" : "Assistant";
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "copy";
  copy.textContent = "Copy";
  const content = document.createElement("div");
  content.className = "content";
  content.textContent = message.content;
  copy.addEventListener("click", () => copyText(content.textContent, copy));
  head.append(who, copy);
  const note = document.createElement("div");
  note.className = "note";
  note.textContent = message.stopped ? "(stopped)" : "";
  box.append(head, content, note);
  $("messages").append(box);
  $("messages").scrollTop = $("messages").scrollHeight;
  return { content, note };
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {  // no clipboard permission (plain http on another host): select-and-copy fallback
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy"; }, 1200);
}

function render() {
  $("messages").textContent = "";
  for (const m of state.messages) addMessage(m);
}

function setRunning(controller) {
  running = controller;
  $("send").hidden = !!controller;
  $("stop").hidden = !controller;
}

function requestBody() {
  const messages = [];
  const system = $("system").value.trim();
  if (system) messages.push({ role: "system", content: system });
  for (const m of state.messages) messages.push({ role: m.role, content: m.content });
  const body = {
    model: modelId, messages, stream: true, stream_options: { include_usage: true },
    temperature: Number($("temperature").value), top_p: Number($("top-p").value),
    max_tokens: Math.max(1, Math.floor(Number($("max-tokens").value) || 512)),
  };
  if ($("seed").value !== "") body.seed = Math.floor(Number($("seed").value));
  return body;
}

// Yields the JSON payloads of an SSE response's `data:` lines until [DONE].
async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      const data = block.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
      if (!data) continue;  // a comment (keep-alive ping)
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
}

async function send(text) {
  showError("");
  state.messages.push({ role: "user", content: text });
  addMessage(state.messages[state.messages.length - 1]);
  const answer = { role: "assistant", content: "" };
  state.messages.push(answer);
  const view = addMessage(answer);
  save();
  const controller = new AbortController();
  setRunning(controller);
  let tokens = 0, first = 0;
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST", headers: headers(), body: JSON.stringify(requestBody()), signal: controller.signal,
    });
    if (!response.ok) {
      const err = await response.json().catch(() => ({}));
      throw new Error((err.error && err.error.message) || ("HTTP " + response.status));
    }
    for await (const chunk of events(response)) {
      if (chunk.error) throw new Error(chunk.error.message);
      const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
      if (delta && delta.content) {
        if (!first) first = performance.now();
        tokens += 1;
        answer.content += delta.content;
        view.content.textContent = answer.content;
        $("messages").scrollTop = $("messages").scrollHeight;
        showSpeed(tokens, first);
      }
      if (chunk.usage && first) showSpeed(chunk.usage.completion_tokens, first);
    }
  } catch (e) {
    if (e.name === "AbortError") {
      answer.stopped = true;
      view.note.textContent = "(stopped)";
    } else {
      showError(e.message);
      if (!answer.content) state.messages.pop();
    }
  } finally {
    setRunning(null);
    save();
  }
}

function showSpeed(tokens, first) {
  const seconds = (performance.now() - first) / 1000;
  if (seconds > 0.05) $("tps").textContent = (tokens / seconds).toFixed(1) + " tokens/s";
}

async function loadModel() {
  try {
    const response = await fetch("/v1/models", { headers: headers() });
    const list = await response.json();
    if (!response.ok) throw new Error(list.error ? list.error.message : "HTTP " + response.status);
    modelId = list.data[0].id;
    $("model-name").textContent = modelId;
  } catch (e) {
    $("model-name").textContent = "model unknown";
    showError("Could not read the model list: " + e.message);
  }
}

function setup() {
  for (const id of settingIds) {
    if (state.settings[id] !== undefined) $(id).value = state.settings[id];
    $(id).addEventListener("change", save);
  }
  $("api-key").addEventListener("change", loadModel);
  render();
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("input").value.trim();
    if (!text || running) return;
    $("input").value = "";
    send(text);
  });
  $("input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("stop").addEventListener("click", () => { if (running) running.abort(); });
  $("new-chat").addEventListener("click", () => {
    if (running) running.abort();
    state.messages = [];
    save();
    render();
    $("tps").textContent = "";
  });
  $("toggle-settings").addEventListener("click", () => {
    const hidden = !$("settings").hidden;
    $("settings").hidden = hidden;
    $("toggle-settings").setAttribute("aria-expanded", String(!hidden));
  });
  loadModel();
}

setup();
