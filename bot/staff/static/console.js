// Staff console: live queue and case pages (server-sent events), emergency alerts,
// actions answered in place (typed text is never lost), canned replies and keyboard shortcuts.
"use strict";

(() => {
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const store = {
    get(key, fallback) { try { return localStorage.getItem(key) ?? fallback; } catch (e) { return fallback; } },
    set(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } },
  };
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const body = document.body;
  const text = (key) => body.dataset[key] || "";

  // --- times and minutes waited --------------------------------------------------------
  function locale() {
    const lang = document.documentElement.lang || "en";
    return lang === "tl" ? "fil" : lang;
  }

  function showTimes(root) {
    $$("time[data-epoch]", root).forEach((el) => {
      const date = new Date(parseFloat(el.dataset.epoch) * 1000);
      el.textContent = date.toLocaleString(locale(), { dateStyle: "short", timeStyle: "short" });
      el.dateTime = date.toISOString();
    });
  }

  function waited(el) {
    const minutes = Math.max(0, Math.floor((Date.now() / 1000 - parseFloat(el.dataset.since)) / 60));
    const host = el.closest("[data-minute-format]");
    if (!host) return;
    el.textContent = minutes < 60
      ? host.dataset.minuteFormat.replace("{n}", minutes)
      : host.dataset.hourFormat.replace("{h}", Math.floor(minutes / 60)).replace("{m}", minutes % 60);
  }

  const updateWaits = (root = document) => $$("[data-since]", root).forEach(waited);

  // --- swapping parts of a page without losing what the user typed or opened -----------
  function swap(container, html) {
    if (!container) return;
    const kept = {};
    $$("textarea[id], input[id]:not([type=hidden]), select[id]", container).forEach((el) => { kept[el.id] = el.value; });
    const open = $$("details[id][open]", container).map((el) => el.id);
    const focused = document.activeElement && container.contains(document.activeElement) ? document.activeElement.id : "";
    container.innerHTML = html;
    Object.entries(kept).forEach(([id, value]) => {
      const el = document.getElementById(id);
      if (el && container.contains(el) && value) el.value = value;
    });
    open.forEach((id) => { const el = document.getElementById(id); if (el) el.open = true; });
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    showTimes(container);
    updateWaits(container);
  }

  // --- title counter: new cases since the user last looked ------------------------------
  const baseTitle = document.title;
  let unseen = 0;
  function bumpTitle() {
    unseen += 1;
    document.title = `(${unseen}) ${baseTitle}`;
  }
  function seen() {
    if (!unseen) return;
    unseen = 0;
    document.title = baseTitle;
  }
  ["keydown", "pointerdown"].forEach((name) => document.addEventListener(name, seen, true));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) seen(); });

  // --- emergency alerts: banner, sound, desktop notification ----------------------------
  const alerted = new Set();
  const banner = $("#emergency-alert");

  function beep() {
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      beep.ctx = beep.ctx || new Context();
      [0, 0.3, 0.6].forEach((offset) => {
        const tone = beep.ctx.createOscillator();
        const gain = beep.ctx.createGain();
        tone.frequency.value = 880;
        gain.gain.value = 0.2;
        tone.connect(gain).connect(beep.ctx.destination);
        tone.start(beep.ctx.currentTime + offset);
        tone.stop(beep.ctx.currentTime + offset + 0.18);
      });
    } catch (e) { /* no audio */ }
  }

  function caseUrl(id) { return banner.dataset.caseUrl.replace("CASEID", encodeURIComponent(id)); }

  function removeAlert(id) {
    const item = banner && $(`[data-case="${CSS.escape(id)}"]`, banner);
    if (item) item.remove();
    if (banner && !banner.children.length) banner.hidden = true;
  }

  function raiseEmergency(summary) {
    if (!banner || alerted.has(summary.id)) return;
    alerted.add(summary.id);
    const item = document.createElement("div");
    item.className = "alert-item";
    item.dataset.case = summary.id;
    const label = document.createElement("strong");
    label.textContent = banner.dataset.label;
    const what = document.createElement("span");
    what.textContent = ` ${summary.id} · ${summary.language} · ${summary.channel} `;
    const open = document.createElement("a");
    open.href = caseUrl(summary.id);
    open.textContent = banner.dataset.open;
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.textContent = banner.dataset.dismiss;
    dismiss.addEventListener("click", () => removeAlert(summary.id));
    item.append(label, what, open, dismiss);
    banner.prepend(item);
    banner.hidden = false;
    if (store.get("lantern.sound", "0") === "1") beep();
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        const note = new Notification(banner.dataset.label, { body: `${summary.id} · ${summary.language}`, tag: summary.id });
        note.onclick = () => { window.focus(); window.location.href = caseUrl(summary.id); };
      } catch (e) { /* notifications unavailable */ }
    }
  }

  function setupAlertControls() {
    const ask = $("#ask-notifications");
    if (ask && "Notification" in window && Notification.permission === "default" && store.get("lantern.notify.asked", "0") !== "1") {
      ask.hidden = false;
      ask.addEventListener("click", async () => {
        store.set("lantern.notify.asked", "1");
        ask.hidden = true;
        try { await Notification.requestPermission(); } catch (e) { /* refused */ }
      });
    }
    const sound = $("#sound-toggle");
    if (sound) {
      sound.checked = store.get("lantern.sound", "0") === "1";
      sound.addEventListener("change", () => { store.set("lantern.sound", sound.checked ? "1" : "0"); if (sound.checked) beep(); });
    }
  }

  // --- the queue ------------------------------------------------------------------------
  const filters = $("#filters");
  const cases = $("#cases");
  let queueTimer = null;

  function applyCounts() {
    const state = $("#queue-state");
    if (!state || !filters) return;
    const { counts } = JSON.parse(state.textContent);
    $$("[data-count]").forEach((el) => { el.textContent = counts[el.dataset.count] ?? 0; });
    $$("option[data-count-key]").forEach((el) => { el.textContent = `${el.dataset.label} (${counts[el.dataset.countKey] ?? 0})`; });
  }

  async function refreshQueue() {
    if (!filters || !cases) return;
    const before = new Set($$("tr[data-case]", cases).map((row) => row.dataset.case));
    const focusedRow = document.activeElement && document.activeElement.closest && document.activeElement.closest("tr[data-case]");
    const query = cases.dataset.query ? `?${cases.dataset.query}` : "";
    const response = await fetch(filters.dataset.liveQueue + query, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return;
    swap(cases, await response.text());
    $$("tr[data-case]", cases).forEach((row) => { if (!before.has(row.dataset.case)) row.classList.add("arrived"); });
    if (focusedRow) {
      const link = $(`tr[data-case="${CSS.escape(focusedRow.dataset.case)}"] .case-link`, cases);
      if (link) link.focus();
    }
    applyCounts();
  }

  // --- the case page --------------------------------------------------------------------
  const casePage = $(".case-page");

  function notice(message) {
    const box = $("#case-notice");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  async function refreshCase() {
    if (!casePage) return;
    const response = await fetch(casePage.dataset.live, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "lantern-console" } });
    if (!response.ok) return;
    const data = await response.json();
    ["head", "actions", "transcript", "timeline", "notes"].forEach((name) => swap($(`#part-${name}`), data.parts[name]));
    const reply = $("#part-reply");
    if (reply && reply.dataset.replyState !== data.reply_state) {
      const draft = ($("#reply-text") || {}).value || "";
      swap(reply, data.parts.reply);
      reply.dataset.replyState = data.reply_state;
      const box = $("#reply-text");
      if (box && draft) box.value = draft;
      if (!box && draft) keepUnsent(reply, draft);
    }
    casePage.dataset.status = data.status;
    casePage.dataset.claimedBy = data.claimed_by;
  }

  function keepUnsent(container, draft) {
    const box = document.createElement("div");
    box.className = "unsent";
    const title = document.createElement("strong");
    title.textContent = casePage.dataset.unsent;
    const copy = document.createElement("p");
    copy.textContent = draft;
    box.append(title, copy);
    container.append(box);
  }

  function explainChange(data) {
    if (!casePage || !data.by || data.by === body.dataset.user) return;
    const name = data.case.claimed_by || data.by;
    if (data.event === "claimed") notice(casePage.dataset.msgClaimed.replace("{name}", name));
    if (data.event === "transferred") notice(casePage.dataset.msgTransferred.replace("{name}", name));
    if (data.event === "closed") notice(casePage.dataset.msgClosed);
  }

  // --- actions answered in place --------------------------------------------------------
  function showError(form, message) {
    const box = $(".form-error", form) || $("#page-error");
    box.textContent = message;
    box.hidden = false;
  }

  async function submitInPlace(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("form[data-async], form[data-async-html]")) return;
    event.preventDefault();
    const button = $("[type=submit]", form);
    const errorBox = $(".form-error", form);
    if (errorBox) errorBox.hidden = true;
    if (button) button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-Requested-With": "lantern-console", "X-CSRF-Token": csrf() },
      });
      let data = null;
      try { data = await response.json(); } catch (e) { data = null; }
      if (!data || !data.ok) {
        showError(form, (data && data.error) || text("errorGeneric"));
        return;
      }
      if (form.dataset.asyncHtml) {
        swap(document.getElementById(form.dataset.asyncHtml), data.html);
        return;
      }
      if (data.redirect) {
        window.location.href = data.redirect;
        return;
      }
      $$("textarea", form).forEach((el) => { el.value = ""; });
      const english = $("#canned-english");
      if (english && form.id === "reply-form") english.hidden = true;
      await refreshCase();
    } catch (e) {
      showError(form, text("errorGeneric"));
    } finally {
      if (button && button.isConnected) button.disabled = false;
    }
  }

  // --- canned replies ------------------------------------------------------------------
  function insertCanned(button) {
    const box = $("#reply-text");
    if (!box || !button) return;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    const before = box.value.slice(0, start);
    const spacer = before && !/\s$/.test(before) ? " " : "";
    box.value = before + spacer + button.dataset.text + box.value.slice(end);
    const caret = (before + spacer + button.dataset.text).length;
    box.focus();
    box.setSelectionRange(caret, caret);
    const english = $("#canned-english");
    if (english) {
      $("span", english).textContent = button.dataset.english;
      english.hidden = false;
    }
  }

  // --- keyboard ---------------------------------------------------------------------------
  const shortcutsOn = () => store.get("lantern.shortcuts", "1") === "1";
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  function moveInQueue(step) {
    const links = $$("#cases .case-link");
    if (!links.length) return;
    const index = links.indexOf(document.activeElement);
    const next = index < 0 ? 0 : Math.min(links.length - 1, Math.max(0, index + step));
    links[next].focus();
  }

  function toggleShortcuts(show) {
    const dialog = $("#shortcuts");
    if (!dialog) return;
    dialog.hidden = !show;
    if (show) {
      toggleShortcuts.opener = document.activeElement;
      $("#close-shortcuts").focus();
    } else if (toggleShortcuts.opener) {
      toggleShortcuts.opener.focus();
    }
  }

  function onKey(event) {
    if (event.altKey && /^Digit[1-9]$/.test(event.code) && $("#reply-text")) {
      const button = $$(".canned-btn")[parseInt(event.code.slice(5), 10) - 1];
      if (button) { event.preventDefault(); insertCanned(button); }
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && event.target.id === "reply-text") {
      event.preventDefault();
      event.target.form.requestSubmit();
      return;
    }
    if (event.key === "Escape" && !$("#shortcuts")?.hidden) { toggleShortcuts(false); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || !shortcutsOn()) return;
    const actions = {
      j: () => moveInQueue(1),
      k: () => moveInQueue(-1),
      n: () => { const link = $("#next-case"); if (link) window.location.href = link.href; },
      q: () => { window.location.href = $(".brand").href; },
      "/": () => { const q = $("#q"); if (q) q.focus(); },
      c: () => { const claim = $("#claim"); if (claim) claim.click(); },
      r: () => { const box = $("#reply-text"); if (box) box.focus(); },
      "?": () => toggleShortcuts(true),
    };
    const action = actions[event.key];
    if (action) { event.preventDefault(); action(); }
  }

  // --- live events ------------------------------------------------------------------------
  function onCaseEvent(message) {
    const data = JSON.parse(message.data);
    const summary = data.case;
    const active = summary.status === "open" || summary.status === "claimed";
    if (["opened", "reopened"].includes(data.event)) bumpTitle();
    if (summary.priority === "emergency" && summary.status === "open" && ["opened", "reopened", "priority"].includes(data.event)) {
      raiseEmergency(summary);
    }
    if (!active || summary.status === "claimed") removeAlert(summary.id);
    if (filters) {
      clearTimeout(queueTimer);
      queueTimer = setTimeout(refreshQueue, 250);
    }
    if (casePage && summary.id === casePage.dataset.case) {
      explainChange(data);
      refreshCase();
    }
  }

  function connect() {
    if (!body.dataset.events || !window.EventSource) return;
    const live = $("#live");
    const source = new EventSource(body.dataset.events);
    source.onopen = () => { if (live) { live.textContent = text("liveOn"); live.classList.add("on"); } };
    source.onerror = () => { if (live) { live.textContent = text("liveOff"); live.classList.remove("on"); } };
    source.addEventListener("case", onCaseEvent);
  }

  document.addEventListener("DOMContentLoaded", () => {
    showTimes(document);
    updateWaits();
    setInterval(updateWaits, 15000);
    $$("[data-autosubmit]").forEach((el) => el.addEventListener("change", () => el.form.submit()));
    document.addEventListener("submit", submitInPlace);
    document.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest(".canned-btn");
      if (button) insertCanned(button);
    });
    document.addEventListener("keydown", onKey);
    const show = $("#show-shortcuts");
    if (show) show.addEventListener("click", () => toggleShortcuts(true));
    const close = $("#close-shortcuts");
    if (close) close.addEventListener("click", () => toggleShortcuts(false));
    const toggle = $("#shortcuts-toggle");
    if (toggle) {
      toggle.checked = shortcutsOn();
      toggle.addEventListener("change", () => store.set("lantern.shortcuts", toggle.checked ? "1" : "0"));
    }
    setupAlertControls();
    connect();
  });
})();
