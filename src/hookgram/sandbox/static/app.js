// The hookgram sandbox chat page: talks to the sandbox API, re-renders on server-sent events.
"use strict";

const API = "/sandbox/api";
const state = {
  chatId: null, chats: [], logAfter: 0, seenAnswers: new Set(), refreshing: null, again: false,
};
const $ = (selector) => document.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(API + path, options);
  const body = await response.json();
  if (!body.ok) throw new Error(body.description);
  return body.result;
}

function post(path, payload) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
}

function toast(text, alert = false) {
  const box = $("#toast");
  box.textContent = text;
  box.className = alert ? "alert" : "";
  box.hidden = false;
  clearTimeout(box.timer);
  box.timer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 3000);
}

// ---- formatting: entities (UTF-16 offsets, as JavaScript strings count) to elements ----

function entityElement(entity, text) {
  const simple = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code",
    blockquote: "blockquote", expandable_blockquote: "blockquote" };
  if (simple[entity.type]) return el(simple[entity.type]);
  if (entity.type === "pre") return el("pre", { "data-language": entity.language || "" });
  if (entity.type === "spoiler") {
    return el("span", { class: "spoiler", onclick: (e) => e.currentTarget.classList.add("shown") });
  }
  const url = entity.type === "text_link" ? entity.url : entity.type === "url" ? text : null;
  if (url !== null) {
    const safe = /^(https?:|tg:|mailto:)/i.test(url) ? url : "#";
    return el("a", { href: safe, target: "_blank", rel: "noopener noreferrer" });
  }
  if (entity.type === "bot_command") {
    return el("span", { class: "command", onclick: () => sendText(text) });
  }
  return el("span", { class: entity.type });
}

function appendRange(parent, text, start, end, entities) {
  let position = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    if (entity.offset < position) { index += 1; continue; }
    if (entity.offset > position) parent.append(text.slice(position, entity.offset));
    const stop = Math.min(entity.offset + entity.length, end);
    const inner = [];
    let next = index + 1;
    while (next < entities.length && entities[next].offset < stop) inner.push(entities[next++]);
    const node = entityElement(entity, text.slice(entity.offset, stop));
    appendRange(node, text, entity.offset, stop, inner);
    parent.append(node);
    position = stop;
    index = next;
  }
  if (position < end) parent.append(text.slice(position, end));
}

function formatted(text, entities) {
  const node = el("div", { class: "text" });
  const sorted = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
  appendRange(node, text, 0, text.length, sorted);
  return node;
}

// ---- messages ----

const fileUrl = (file) => `/sandbox/files/${encodeURIComponent(file.file_id)}`;

function price(amount, currency) {
  return currency === "XTR" ? `⭐ ${amount}` : `${(amount / 100).toFixed(2)} ${currency}`;
}

function media(message) {
  if (message.photo) {
    return el("img", { class: "photo", alt: "photo", src: fileUrl(message.photo[message.photo.length - 1]) });
  }
  if (message.sticker) return el("img", { class: "sticker", alt: message.sticker.emoji || "sticker", src: fileUrl(message.sticker) });
  if (message.animation || message.video) {
    const video = message.animation || message.video;
    return el("video", { src: fileUrl(video), controls: "", loop: "", muted: "" });
  }
  if (message.voice || message.audio) return el("audio", { src: fileUrl(message.voice || message.audio), controls: "" });
  if (message.document) {
    const name = message.document.file_name || "file";
    return el("a", { class: "document", href: fileUrl(message.document), download: name }, `📄 ${name}`);
  }
  if (message.location) return el("div", {}, `📍 ${message.location.latitude}, ${message.location.longitude}`);
  if (message.contact) {
    const contact = message.contact;
    return el("div", {}, `👤 ${contact.first_name} ${contact.last_name || ""} · ${contact.phone_number}`);
  }
  if (message.dice) return el("div", { class: "dice", title: `value ${message.dice.value}` }, `${message.dice.emoji} ${message.dice.value}`);
  if (message.poll) {
    return el("div", { class: "poll" }, el("strong", {}, `📊 ${message.poll.question}`),
      el("ul", {}, ...message.poll.options.map((option) => el("li", {}, option.text))));
  }
  if (message.invoice) return invoice(message);
  return null;
}

function invoice(message) {
  const { title, description, total_amount: amount, currency } = message.invoice;
  const hasPayButton = (message.reply_markup?.inline_keyboard || []).some((row) => row.some((b) => b.pay));
  const pay = hasPayButton ? null : el("div", { class: "keyboard" },
    el("button", { class: "pay", onclick: () => payInvoice(message) }, `Pay ${price(amount, currency)}`));
  return el("div", { class: "invoice" }, el("strong", {}, title), el("div", {}, description),
    el("div", { class: "price" }, price(amount, currency)), pay);
}

function keyboard(message) {
  const rows = message.reply_markup?.inline_keyboard;
  if (!rows) return null;
  return el("div", { class: "keyboard inline" }, ...rows.map((row) => el("div", { class: "row" },
    ...row.map((button) => inlineButton(message, button)))));
}

function inlineButton(message, button) {
  if (button.url) return el("a", { href: button.url, target: "_blank", rel: "noopener noreferrer" }, button.text);
  if (button.pay) return el("button", { onclick: () => payInvoice(message) }, button.text);
  if (button.callback_data !== undefined) {
    return el("button", { "data-callback": button.callback_data, onclick: () => press(message, button) }, button.text);
  }
  return el("button", { disabled: "", title: "not emulated by the sandbox" }, button.text);
}

function serviceText(message) {
  if (message.successful_payment) {
    const payment = message.successful_payment;
    return `✅ ${message.from.first_name} paid ${price(payment.total_amount, payment.currency)}`;
  }
  return null;
}

function renderMessage(message, chat) {
  const service = serviceText(message);
  if (service) return el("li", { class: "message service", "data-message-id": message.message_id }, service);
  const mine = !message.from?.is_bot;
  const item = el("li", { class: `message ${mine ? "mine" : "bot"}`, "data-message-id": message.message_id });
  if (chat.type !== "private" && message.from) item.append(el("div", { class: "sender" }, message.from.first_name));
  if (message.forward_origin) item.append(el("div", { class: "forward" }, "Forwarded message"));
  if (message.reply_to_message) {
    const quoted = message.reply_to_message.text || message.reply_to_message.caption || "…";
    item.append(el("div", { class: "reply" }, quoted.slice(0, 80)));
  }
  const parts = [media(message), keyboard(message)];
  if (message.text !== undefined) parts.splice(1, 0, formatted(message.text, message.entities));
  if (message.caption) parts.splice(1, 0, formatted(message.caption, message.caption_entities));
  item.append(...parts.filter(Boolean));
  const time = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  item.append(el("div", { class: "meta" }, message.edit_date ? `edited ${time}` : time));
  return item;
}

function renderReplyKeyboard(markup) {
  const holder = $("#reply-keyboard");
  holder.replaceChildren();
  if (!markup) return;
  holder.append(el("div", { class: "keyboard reply" }, ...markup.keyboard.map((row) => el("div", { class: "row" },
    ...row.map((button) => {
      const text = typeof button === "string" ? button : button.text;
      return el("button", { onclick: () => sendText(text) }, text);
    })))));
}

// ---- the side panel ----

function logEntry(entry) {
  const title = {
    update: () => `⬇ update ${entry.update.update_id}: ${Object.keys(entry.update).find((k) => k !== "update_id")}`
      + (entry.dropped ? ` (dropped: ${entry.dropped})` : ""),
    delivery: () => `→ webhook: update ${entry.update_id} ${entry.error ? `failed: ${entry.error}` : "delivered (2xx)"}`,
    call: () => `⬆ ${entry.method}${entry.answer.ok ? "" : ` → ${entry.answer.error_code} ${entry.answer.description}`}`,
  }[entry.kind]();
  const failed = entry.error || (entry.answer && !entry.answer.ok) || entry.dropped;
  const details = el("details", {}, el("summary", {}, title));
  if (entry.kind === "update") details.append(el("pre", {}, JSON.stringify(entry.update, null, 2)));
  if (entry.kind === "call") {
    const request = { ...entry.params, ...entry.files };
    details.append(el("pre", {}, JSON.stringify(request, null, 2)), el("pre", {}, JSON.stringify(entry.answer, null, 2)));
  }
  return el("li", { class: `kind-${entry.kind}${failed ? " failed" : ""}` }, details);
}

// ---- actions ----

function currentUser() {
  return Number($("#user").value) || undefined;
}

async function run(action) {
  try { await action(); } catch (error) { toast(error.message, true); }
}

function sendText(text) {
  return run(() => post(`/chats/${state.chatId}/messages`, { text, from: currentUser() }));
}

function press(message, button) {
  return run(() => post(`/chats/${state.chatId}/messages/${message.message_id}/press`,
    { callback_data: button.callback_data, from: currentUser() }));
}

function payInvoice(message) {
  return run(async () => {
    toast("Paying…");
    const outcome = await post(`/chats/${state.chatId}/messages/${message.message_id}/pay`, { from: currentUser() });
    if (outcome.status !== "paid") toast(`Payment ${outcome.status}: ${outcome.error_message}`, true);
  });
}

async function submit(event) {
  event.preventDefault();
  const text = $("#text").value;
  const file = $("#file").files[0];
  if (!file && !text.trim()) return;
  await run(async () => {
    if (file) {
      const form = new FormData();
      form.append("file", file);
      form.append("caption", text);
      if (currentUser()) form.append("from", currentUser());
      await api(`/chats/${state.chatId}/messages`, { method: "POST", body: form });
    } else {
      await post(`/chats/${state.chatId}/messages`, { text, from: currentUser() });
    }
    $("#text").value = "";
    $("#file").value = "";
    $("#attachment").textContent = "";
  });
}

// ---- loading and live refresh ----

async function loadLists() {
  const [users, chats] = await Promise.all([api("/users"), api("/chats")]);
  const chosen = $("#user").value;
  $("#user").replaceChildren(...users.map((user) => el("option", { value: user.id }, user.first_name)));
  if (chosen) $("#user").value = chosen;
  state.chats = chats;
  $("#chats").replaceChildren(...chats.map((chat) => el("li", {}, el("button", {
    class: `chat${chat.id === state.chatId ? " active" : ""}`, "data-chat": chat.id, onclick: () => openChat(chat.id),
  }, chat.title || chat.first_name || String(chat.id)))));
}

async function openChat(chatId) {
  state.chatId = chatId;
  state.logAfter = 0;
  $("#log").replaceChildren();
  location.hash = String(chatId);
  const chat = state.chats.find((c) => c.id === chatId);
  if (chat && chat.type === "private") $("#user").value = String(chatId);
  scheduleRefresh();
  await state.refreshing;
}

async function refresh() {
  if (state.chatId === null) return;
  const chatId = state.chatId;
  await loadLists();
  const [view, entries, bot] = await Promise.all([
    api(`/chats/${chatId}`), api(`/log?chat_id=${chatId}&after=${state.logAfter}`), api("/bot"),
  ]);
  if (chatId !== state.chatId) return;
  const chat = view.chat;
  $("#chat-title").textContent = chat.title || [chat.first_name, chat.last_name].filter(Boolean).join(" ");
  const list = $("#messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...view.messages.map((message) => renderMessage(message, chat)));
  if (atBottom) list.scrollTop = list.scrollHeight;
  renderReplyKeyboard(view.keyboard);
  for (const answer of view.callback_answers) {
    if (state.seenAnswers.has(answer.callback_query_id)) continue;
    state.seenAnswers.add(answer.callback_query_id);
    if (answer.text) toast(answer.text, answer.show_alert);
  }
  for (const entry of entries) {
    if (entry.seq <= state.logAfter) continue;
    $("#log").append(logEntry(entry));
    state.logAfter = entry.seq;
  }
  const webhook = bot.webhook;
  $("#webhook").textContent = `webhook: ${webhook.url || "not set"} · pending ${webhook.pending_update_count}`
    + (webhook.last_error_message ? ` · last error: ${webhook.last_error_message}` : "");
  $("#webhook").classList.toggle("error", Boolean(webhook.last_error_message));
}

function scheduleRefresh() {
  // One refresh at a time; changes arriving meanwhile are picked up by one more refresh.
  if (state.refreshing) { state.again = true; return; }
  state.refreshing = (async () => {
    do {
      state.again = false;
      await run(refresh);
    } while (state.again);
    state.refreshing = null;
  })();
}

async function start() {
  $("#composer").addEventListener("submit", submit);
  $("#file").addEventListener("change", () => { $("#attachment").textContent = $("#file").files[0]?.name || ""; });
  $("#new-user").addEventListener("submit", (event) => {
    event.preventDefault();
    run(async () => {
      const user = await post("/users", { first_name: event.target.first_name.value });
      event.target.reset();
      await openChat(user.id);
    });
  });
  $("#new-group").addEventListener("submit", (event) => {
    event.preventDefault();
    run(async () => {
      const chat = await post("/chats", { title: event.target.title.value });
      event.target.reset();
      await openChat(chat.id);
    });
  });
  await loadLists();
  const fromHash = Number(location.hash.slice(1));
  const first = state.chats.find((chat) => chat.id === fromHash) || state.chats[0];
  if (first) await openChat(first.id);
  new EventSource("/sandbox/events").onmessage = scheduleRefresh;
  document.body.dataset.ready = "true";
}

run(start);
