// Minifleet's only first-party script. Everything works without it; it makes
// HTMX failures visible and adds small conveniences. No inline scripts (CSP).
(function () {
  "use strict";

  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (kind || "info");
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.textContent = message;
    box.appendChild(el); // the observer below fades it
  }
  window.minifleetToast = toast;

  // The server answers HTMX errors with fragments meant to be shown (403, 404,
  // 422 forms, 500); htmx 2 drops 4xx/5xx bodies unless told otherwise.
  document.addEventListener("DOMContentLoaded", function () {
    // Every toast fades, whether rendered with the page or swapped in by htmx.
    var box = document.getElementById("toasts");
    function fade(el) {
      if (el.nodeType === 1) setTimeout(function () { el.remove(); }, el.classList.contains("toast-error") ? 8000 : 5000);
    }
    if (box) {
      box.querySelectorAll(".toast").forEach(fade);
      new MutationObserver(function (records) {
        records.forEach(function (r) { r.addedNodes.forEach(fade); });
      }).observe(box, { childList: true });
    }
    if (window.htmx) {
      htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "[45]..", swap: true, error: false },
      ];
    }
  });
  document.addEventListener("htmx:sendError", function () {
    toast(document.body.dataset.msgNetwork || "Network error", "error");
  });
  // Toasts from the server: HX-Trigger: {"toast": {"message": "...", "kind": "success"}}
  document.addEventListener("toast", function (e) {
    var d = e.detail || {};
    toast(d.message || d.value, d.kind);
  });
  // htmx-ext-sse 2.x names its events htmx:sseOpen / htmx:sseError.
  document.addEventListener("htmx:sseOpen", function (e) { setLive(e.target, true); });
  document.addEventListener("htmx:sseError", function (e) { setLive(e.target, false); });
  function setLive(_, on) {
    var dot = document.getElementById("live-indicator");
    if (dot) dot.classList.toggle("is-live", on);
  }

  document.addEventListener("click", function (e) {
    // Copy buttons: <button data-copy="#id">
    var btn = e.target.closest("[data-copy]");
    if (btn) {
      var src = document.querySelector(btn.getAttribute("data-copy"));
      var text = src ? (src.value || src.textContent) : "";
      navigator.clipboard.writeText(text.trim()).then(function () {
        toast(btn.dataset.copied || "Copied", "success");
      });
      e.preventDefault();
      return;
    }
    // Confirm dialogs that name the object: <button data-confirm="Suspend 某某?">
    // A form that is not filled in yet (a suspension's reason) asks for that
    // first: the browser's own validation runs, then the confirm.
    var c = e.target.closest("[data-confirm]");
    if (c && c.form && c.type === "submit" && !c.form.checkValidity()) return;
    if (c && !window.confirm(c.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // Language switcher and filters auto-submit without inline handlers.
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-autosubmit]")) e.target.form.requestSubmit();
  });
})();

// Onboarding: authorization link countdown. The server renders the minutes
// left; this keeps it ticking and says when the link expired (no JS: the
// server-rendered text stays, and the live status says when it expires).
(function () {
  "use strict";
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.floor(Number(el.getAttribute("data-countdown")) - Date.now() / 1000);
      if (left <= 0) {
        el.textContent = el.getAttribute("data-expired-text") || "";
        el.classList.add("is-expired");
        return;
      }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = (el.getAttribute("data-left-text") || "") + " " + m + ":" + (s < 10 ? "0" : "") + s;
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();

// Image uploads (config forms): a file larger than the server takes is
// refused here, with the server's own message, before the form is sent —
// the server would refuse it too (413 past its body limit), and the other
// fields typed so far stay on the page.
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (!el || el.type !== "file" || !el.hasAttribute("data-max-bytes")) return;
    var max = Number(el.getAttribute("data-max-bytes"));
    var f = el.files && el.files[0];
    if (f && f.size > max) {
      el.setCustomValidity(el.getAttribute("data-too-big") || "too large");
      el.reportValidity();
      el.value = "";
    } else {
      el.setCustomValidity("");
    }
  });
})();
