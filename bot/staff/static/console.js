// Live updates for the staff console: server-sent events refresh the queue and transcript.
"use strict";

function showTimes(root) {
  root.querySelectorAll("time[data-epoch]").forEach((el) => {
    const date = new Date(parseFloat(el.dataset.epoch) * 1000);
    el.textContent = date.toLocaleString();
    el.title = date.toISOString();
  });
}

async function refresh(url, target) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (response.ok) {
    target.innerHTML = await response.text();
    showTimes(target);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  showTimes(document);
  document.querySelectorAll("[data-autosubmit]").forEach((el) => el.addEventListener("change", () => el.form.submit()));
  const queue = document.querySelector("[data-live-queue]");
  const casePage = document.querySelector("section.case[data-case]");
  const source = (queue || casePage) && new EventSource((queue || casePage).dataset.events);
  if (!source) return;
  const live = document.getElementById("live");
  source.onopen = () => live && live.classList.add("on");
  source.onerror = () => live && live.classList.remove("on");
  source.addEventListener("case", (event) => {
    const data = JSON.parse(event.data);
    if (queue) {
      refresh(queue.dataset.liveQueue, document.getElementById("queue-rows"));
      if (data.event === "opened" || data.event === "reopened") {
        document.title = "🔔 " + document.title.replace(/^🔔 /, "");
      }
    }
    if (casePage && data.case.id === casePage.dataset.case) {
      refresh(casePage.dataset.transcript, document.getElementById("transcript-box"));
      const status = document.getElementById("case-status");
      if (status) status.textContent = data.case.status + (data.case.claimed_by ? " · " + data.case.claimed_by : "");
    }
  });
});
