// The inspector's phone (PWA). Builds the visit from the big buttons and the checklist and puts it
// in the field app's offline queue (kefu/field/static/field/phone.js, localStorage
// "kefu.field.queue"): a client-made id and the capture time; sent at once when online, and again
// when the connection returns; the server applies each client id once.
(function () {
  "use strict";
  var KEY = "kefu.field.queue";
  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "i-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  function enqueue(entryId, body) {
    var q; try { q = JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { q = []; }
    body.client_id = uid();
    body.device_at = new Date().toISOString();
    q.push({ url: "/api/v1/inspections/entries/" + entryId + "/visits", body: body, queued_offline: !navigator.onLine });
    localStorage.setItem(KEY, JSON.stringify(q));
    var card = document.querySelector('[data-entry="' + entryId + '"] [data-status]');
    if (card) card.textContent = body.label || body.outcome;
    if (window.kefuFieldQueue) window.kefuFieldQueue.flush();
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("[data-outcome], [data-open-visit]") : null;
    if (!b) return;
    var id = b.getAttribute("data-entry-id");
    if (b.hasAttribute("data-open-visit")) {
      var f = document.querySelector('[data-visit-form="' + id + '"]'); if (f) f.hidden = !f.hidden; return;
    }
    var outcome = b.getAttribute("data-outcome"), body = { outcome: outcome, label: b.textContent.trim() };
    if (outcome === "nobody_home") {
      if (!window.confirm(b.getAttribute("data-confirm"))) return;
      body.door_notice = true;
    } else if (outcome === "refused" || outcome === "vacant" || outcome === "not_in_use") {
      body.reason = window.prompt(b.getAttribute("data-prompt")) || "";
      if (outcome === "refused" && !body.reason) return;
    }
    enqueue(id, body);
  });
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (!f.hasAttribute || !f.hasAttribute("data-visit-form")) return;
    ev.preventDefault();
    var id = f.getAttribute("data-visit-form"), checklist = {}, hazards = [];
    f.querySelectorAll("[data-check]").forEach(function (fs) {
      var on = fs.querySelector("input:checked"); if (on) checklist[fs.getAttribute("data-check")] = on.value;
    });
    f.querySelectorAll("input[name=hazard]:checked").forEach(function (h) {
      hazards.push({ type_code: h.value, description: f.elements.hazard_note.value || "", shut_off: f.elements.shut_off.checked });
    });
    var pad = f.querySelector("canvas[data-signature]");
    enqueue(id, {
      outcome: "done", label: f.getAttribute("data-label"), checklist: checklist, hazards: hazards,
      meter_reading: f.elements.meter_reading.value || null, advice_given: f.elements.advice_given.checked,
      signed_by: f.elements.signed_by.value, appliances_checked: f.elements.appliances_checked.checked,
      signature_png: pad && pad.getAttribute("data-drawn") ? pad.toDataURL("image/png") : ""
    });
    f.hidden = true;
  });
  // The customer's handwritten signature: drawn with a finger on the canvas, sent as a PNG with the
  // visit (and queued with it when offline).
  function point(c, ev) {
    var r = c.getBoundingClientRect();
    return [(ev.clientX - r.left) * c.width / r.width, (ev.clientY - r.top) * c.height / r.height];
  }
  document.addEventListener("pointerdown", function (ev) {
    var c = ev.target;
    if (!c.hasAttribute || !c.hasAttribute("data-signature")) return;
    var g = c.getContext("2d"), p = point(c, ev);
    g.lineWidth = 3; g.lineCap = "round"; g.beginPath(); g.moveTo(p[0], p[1]);
    c.setPointerCapture(ev.pointerId);
    function move(e) { var q = point(c, e); g.lineTo(q[0], q[1]); g.stroke(); c.setAttribute("data-drawn", "1"); }
    function up() { c.removeEventListener("pointermove", move); c.removeEventListener("pointerup", up); }
    c.addEventListener("pointermove", move); c.addEventListener("pointerup", up);
  });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-signature-clear]");
    if (!b) return;
    var c = b.parentNode.querySelector("canvas[data-signature]");
    c.getContext("2d").clearRect(0, 0, c.width, c.height); c.removeAttribute("data-drawn");
  });
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("insp-phone");
    if (root && "serviceWorker" in navigator) navigator.serviceWorker.register(root.getAttribute("data-sw"), { scope: "/inspections/" }).catch(function () {});
  });
})();
