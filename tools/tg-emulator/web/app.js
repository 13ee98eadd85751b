// kiebot sandbox: talks to the bot as a Telegram user through tg-emulator's
// control API, and shows what happens behind the chat. No build step.
"use strict";

const $ = (id) => document.getElementById(id);
const saved = JSON.parse(localStorage.getItem("kiebot-sandbox-user") || "null");
let user = saved || { id: 42, name: "Alex", lang: navigator.language && navigator.language.startsWith("ru") ? "ru" : "en" };
let version = 0;
let lastAction = "";
let actionUntil = 0;

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const userPath = (suffix) => `/control/users/${user.id}/${suffix}`;
const asUser = () => ({ first_name: user.name, language_code: user.lang });

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function media(m) {
  if (!m.media) return null;
  const { type, url } = m.media;
  if (type === "photo") {
    const img = el("img", { src: url, alt: "photo" });
    img.addEventListener("load", () => { $("messages").scrollTop = $("messages").scrollHeight; });
    return img;
  }
  if (type === "video" || type === "animation") return el("video", { src: url, controls: "" });
  if (type === "audio" || type === "voice") return el("audio", { src: url, controls: "" });
  return el("a", { href: url, target: "_blank" }, "📄 file");
}

function keyboard(m) {
  const rows = m.reply_markup && m.reply_markup.inline_keyboard;
  if (!rows) return null;
  const box = el("div", { class: "keyboard" });
  for (const row of rows) {
    const line = el("div", { class: "row" });
    for (const b of row) {
      if (b.url) {
        line.append(el("a", { href: b.url, target: "_blank" }, b.text));
      } else {
        line.append(el("button", {
          type: "button", "data-callback": b.callback_data,
          onclick: () => call("POST", userPath("press"), { message_id: m.message_id, callback_data: b.callback_data }).catch(report),
        }, b.text));
      }
    }
    box.append(line);
  }
  return box;
}

let shown = 0;

function render(messages) {
  const list = $("messages");
  // Follow the conversation unless the user scrolled up to read.
  const atBottom = messages.length > shown || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  shown = messages.length;
  list.replaceChildren();
  for (const m of messages) {
    const item = el("li", { class: `msg ${m.from}`, "data-message-id": m.message_id });
    item.append(media(m) || "");
    if (m.invoice) {
      const inv = m.invoice;
      item.classList.add("invoice");
      item.append(el("div", {}, el("strong", {}, inv.title)), el("div", {}, inv.description),
                  el("div", {}, `${inv.total_amount} ⭐`),
                  el("button", { type: "button", class: "pay",
                                 onclick: () => call("POST", userPath("pay"), { message_id: m.message_id }).catch(report) },
                     `Pay ${inv.total_amount} ⭐`));
    }
    if (m.successful_payment) item.append(el("span", { class: "paid" }, `Paid ${m.successful_payment.total_amount} ⭐`));
    if (m.refunded_payment) item.append(el("span", { class: "paid" }, `Refunded ${m.refunded_payment.total_amount} ⭐`));
    const text = m.text !== undefined ? m.text : m.caption;
    if (text) item.append(el("div", { class: "text" }, text));
    if (m.edited) item.append(el("span", { class: "edited" }, "edited"));
    item.append(keyboard(m) || "");
    list.append(item);
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
}

async function refresh() {
  const [messages, action] = await Promise.all([
    call("GET", `/control/chats/${user.id}/transcript`),
    call("GET", `/control/chats/${user.id}/action`),
  ]);
  render(messages);
  if (action.action && action.action !== lastAction) actionUntil = Date.now() + 5000;  // Telegram shows it for 5 s
  lastAction = action.action;
  const status = $("status");
  const busy = Date.now() < actionUntil;
  status.textContent = busy ? `bot is ${lastAction.replace("upload_", "sending ").replace("_", " ")}…` : `you are ${user.name} (${user.id})`;
  status.classList.toggle("busy", busy);
}

function dl(target, pairs) {
  target.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]));
}

const rub = (k) => `${(k / 100).toFixed(2)} ₽`;

async function refreshPanel() {
  const p = await call("GET", `/control/panel?user_id=${user.id}`);
  $("replicas").replaceChildren(...(p.replicas.length ? p.replicas : [{ url: "not configured" }]).map((r) =>
    el("li", { class: r.up === false ? "down" : "" },
       `${r.instance || r.url} `, r.polling ? el("span", { class: "polling" }, "● polls Telegram (lease)") : (r.up ? "standby" : "down"))));
  const a = p.account;
  dl($("account"), a ? [["balance", rub(a.balance)], ["reserved", rub(a.held)],
                        ["free today", `${a.free.remaining} of ${a.free.daily_limit}`], ["language", a.language || "—"],
                        ["admin", a.is_admin ? "yes" : "no"]] : [["accounts", "not configured"]]);
  $("jobs").replaceChildren(...(p.jobs && p.jobs.length ? p.jobs : []).map((j) =>
    el("li", { "data-status": j.status }, `${j.model}: ${j.status} (${rub(j.price)})`)));
  if (!p.jobs || !p.jobs.length) $("jobs").append(el("li", {}, "none yet"));
  dl($("counters"), [["409 conflicts", p.emulator.conflicts_409], ["429 floods", p.emulator.flood_429],
                     ["getUpdates calls", p.emulator.methods.getUpdates || 0], ["messages sent", p.emulator.methods.sendMessage || 0]]);
}

function report(e) {
  console.error(e);
  $("status").textContent = e.message;
}

async function follow() {
  // Long poll: the emulator answers when anything a chat shows has changed.
  for (;;) {
    try {
      const changed = await call("GET", `/control/changes?since=${version}`);
      version = changed.version;
      await refresh();
      refreshPanel().catch(() => {});
    } catch (e) {
      report(e);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function showUser() {
  $("user-id").value = user.id;
  $("user-name").value = user.name;
  $("user-lang").value = user.lang;
}

$("who").addEventListener("submit", (e) => {
  e.preventDefault();
  user = { id: Number($("user-id").value), name: $("user-name").value, lang: $("user-lang").value };
  localStorage.setItem("kiebot-sandbox-user", JSON.stringify(user));
  refresh().catch(report);
  refreshPanel().catch(report);
});

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  call("POST", userPath("messages"), { text, ...asUser() }).catch(report);
});

$("photo").addEventListener("change", () => {
  const file = $("photo").files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    call("POST", userPath("photos"), { data_base64: reader.result, content_type: file.type || "image/jpeg", ...asUser() })
      .catch(report);
    $("photo").value = "";
  };
  reader.readAsDataURL(file);
});

showUser();
refresh().catch(() => {});
refreshPanel().catch(() => {});
setInterval(() => refreshPanel().catch(() => {}), 3000);
follow();
