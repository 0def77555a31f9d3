// Journey: the little JavaScript the pages use. Every page works without it; with it the
// dashboard is live, pending states update themselves and uploads show their progress.
"use strict";

function liveDashboard(panel) {
  const state = document.getElementById("live-state");
  const say = (text, name) => { if (state) { state.textContent = text; state.dataset.state = name; } };
  let source;
  const open = () => {
    source = new EventSource(panel.dataset.live);
    source.addEventListener("open", () => say("Live: updates appear here as they happen.", "live"));
    source.addEventListener("snapshot", (event) => {
      panel.innerHTML = event.data;
      panel.dataset.version = event.lastEventId;
      say("Live: updated at " + new Date().toLocaleTimeString() + ".", "live");
    });
    source.addEventListener("close", () => { source.close(); say("Reconnecting…", "reconnecting"); setTimeout(open, 2000); });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        say("Live updates stopped. Reload the page to see the latest.", "stopped");
      } else {
        say("Reconnecting…", "reconnecting");
      }
    });
  };
  open();
  window.addEventListener("pagehide", () => source.close());
}

function pollPending(element) {
  const seconds = Math.max(1, Number(element.dataset.pollSeconds || 2));
  setTimeout(async () => {
    try {
      const response = await fetch(element.dataset.poll, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (!response.ok) { return; }
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();
      const next = holder.firstElementChild;
      if (!next) { return; }
      element.replaceWith(next);
      if (next.dataset.poll) { pollPending(next); } else { next.querySelectorAll("[data-poll]").forEach(pollPending); }
    } catch (error) {
      pollPending(element);  // offline for a moment: try again
    }
  }, seconds * 1000);
}

function uploadWithProgress(form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const progress = form.querySelector("progress");
    const status = form.querySelector("[data-upload-status]");
    const button = form.querySelector("button[type=submit]");
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "upload");
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && progress) {
        progress.hidden = false;
        progress.value = e.loaded / e.total;
        if (status) { status.textContent = "Uploading: " + Math.round(100 * e.loaded / e.total) + "%"; }
      }
    });
    request.addEventListener("load", () => {
      if (request.status < 400) { window.location.assign(request.responseURL); return; }
      // The answer is the page with the problem in words: show its main part.
      const page = new DOMParser().parseFromString(request.responseText, "text/html");
      const main = page.querySelector("main");
      if (main) {
        document.querySelector("main").replaceWith(main);
        main.focus();
        main.querySelectorAll("form[data-upload]").forEach(uploadWithProgress);
      }
    });
    request.addEventListener("error", () => {
      if (status) { status.textContent = "The upload did not get through. Check your connection and try again."; }
      if (button) { button.disabled = false; }
    });
    if (button) { button.disabled = true; }
    if (status) { status.textContent = "Uploading…"; }
    request.send(new FormData(form));
  });
}

function detectTimeZone(input) {
  if (!input.value || input.dataset.isDefault === "true") {
    try { input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || input.value; } catch (e) { /* keep */ }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector("[data-live]");
  if (panel && window.EventSource) { liveDashboard(panel); }
  document.querySelectorAll("[data-poll]").forEach(pollPending);
  document.querySelectorAll("form[data-upload]").forEach(uploadWithProgress);
  document.querySelectorAll("input[data-detect-timezone]").forEach(detectTimeZone);
});
