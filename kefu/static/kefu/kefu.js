// Small behaviours of every page, bound here instead of inline handlers so the pages run under a
// Content-Security-Policy without 'unsafe-inline' scripts (kefu.core.middleware). Delegated on the
// document, so fragments loaded later by htmx behave the same.
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-set-duplicate], [data-open-dialog], [data-close-dialog], .att-preview") : null;
    if (!el) return;
    if (el.hasAttribute("data-set-duplicate")) {
      el.form.elements.on_duplicate.value = el.getAttribute("data-set-duplicate");
    } else if (el.hasAttribute("data-open-dialog")) {
      document.getElementById(el.getAttribute("data-open-dialog")).showModal();
    } else if (el.hasAttribute("data-close-dialog")) {
      el.closest("dialog").close();
    } else if (el.classList.contains("att-preview")) {
      var img = el.nextElementSibling;
      img.src = el.dataset.src;
      img.hidden = false;
      el.remove();
    }
  });
})();

// Commitment clocks count down in the browser, every second, between the page's refreshes: each
// open clock carries its due (and warning) time, the words come from the nearest
// [data-clock-words] (the interface's language). Past the warning time a clock turns "due soon",
// past the due time "breached" — the sweep records the breach, the browser only shows it.
(function () {
  "use strict";
  function fill(fmt, values) {
    return String(fmt || "").replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function span(ms, w) {
    var minutes = Math.max(Math.floor(ms / 60000), 0);
    if (minutes === 0) return w.dataset.wLt1;
    var d = Math.floor(minutes / 1440), rest = minutes % 1440, h = Math.floor(rest / 60), m = rest % 60;
    if (d) return fill(w.dataset.wDh, { d: d, h: h });
    if (h) return fill(w.dataset.wHm, { h: h, m: m });
    return fill(w.dataset.wM, { m: m });
  }
  function setState(el, state, w) {
    ["running", "due_soon", "breached"].forEach(function (s) { el.classList.toggle("clock-" + s, s === state); });
    var label = el.querySelector(".clock-label");
    if (label && state !== "running" && w.dataset["w" + (state === "due_soon" ? "Due_soon" : "Breached")]) {
      label.textContent = w.dataset["w" + (state === "due_soon" ? "Due_soon" : "Breached")];
    }
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".clock[data-due]").forEach(function (el) {
      var w = el.closest("[data-clock-words]");
      var text = el.querySelector(".clock-text");
      if (!w || !text) return;
      var due = Date.parse(el.dataset.due), warn = el.dataset.warn ? Date.parse(el.dataset.warn) : NaN;
      if (isNaN(due)) return;
      if (now > due) {
        text.textContent = fill(w.dataset.wOver, { s: span(now - due, w) });
        setState(el, "breached", w);
      } else {
        text.textContent = fill(w.dataset.wLeft, { s: span(due - now, w) });
        if (!isNaN(warn) && now >= warn) setState(el, "due_soon", w);
      }
    });
  }
  tick();
  setInterval(tick, 1000);
})();

// Pages that refresh by themselves (htmx polling on [data-live]): a refresh is skipped while a
// dialog is open or the user has typed in a field of the refreshed part, so nothing typed is lost.
(function () {
  "use strict";
  document.addEventListener("input", function (ev) {
    var live = ev.target.closest ? ev.target.closest("[data-live]") : null;
    if (live && !ev.target.closest("dialog")) live.dataset.dirty = "1"; // a dialog blocks refreshes while open
  });
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var el = ev.detail && ev.detail.elt;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-live")) return;
    if (document.querySelector("dialog[open]") || el.dataset.dirty) ev.preventDefault();
  });
  // The hold dialog: the agreed time is asked for (and required) for another time asked or agreed.
  function syncHold(select) {
    var opt = select.options[select.selectedIndex];
    var field = select.form.querySelector("[data-agreed-field]");
    if (!field) return;
    var need = !!(opt && opt.hasAttribute("data-agreed"));
    field.hidden = !need;
    field.querySelector("input").required = need;
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.matches && ev.target.matches("select[data-hold-reason]")) syncHold(ev.target);
  });
})();
