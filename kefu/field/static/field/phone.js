// The technician's phone (PWA). Every action (接单, 出发, 到达, 完成) is put in a queue in the
// browser first, with a client-made id and the capture time, then sent; on a poor connection it
// stays queued (localStorage) and is sent when the connection returns. The server applies each
// client id exactly once, so a replay — a resend after a lost answer, or a second tab — is harmless.
(function () {
  "use strict";
  var KEY = "kefu.field.queue";
  var sending = false;

  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); show(); }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }
  function show() {
    var el = document.getElementById("queue"); if (!el) return;
    var n = load().length;
    el.textContent = n ? el.getAttribute("data-label") + "：" + n : "";
    el.setAttribute("data-count", String(n));
    var net = document.getElementById("net");
    if (net) net.textContent = navigator.onLine ? net.getAttribute("data-online") : net.getAttribute("data-offline");
  }
  function error(msg) {
    var ul = document.getElementById("queue-errors"); if (!ul) return;
    var li = document.createElement("li"); li.className = "error"; li.textContent = msg; ul.appendChild(li);
  }
  function enqueue(url, body) {
    var q = load();
    body.client_id = body.client_id || uid();
    body.device_at = body.device_at || new Date().toISOString();
    q.push({ url: url, body: body, queued_offline: !navigator.onLine });
    save(q);
    flush();
  }
  function flush() {
    if (sending) return;
    var q = load();
    if (!q.length) return;
    sending = true;
    var item = q[0];
    if (item.queued_offline || item.tried) item.body.offline = true;
    fetch(item.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(item.body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        var rest = load(), i = rest.findIndex(function (x) { return x.body.client_id === item.body.client_id; });
        if (i >= 0) rest.splice(i, 1);  // this one copy only: a replayed copy is sent and answered by itself
        if (r.status >= 500) { item.tried = true; sending = false; return; }  // keep it, try later
        if (r.status >= 400) error((data && data.detail) || ("HTTP " + r.status));
        else markDone(item, data);
        save(rest); sending = false; flush();
      });
    }).catch(function () {  // offline or no answer: keep it queued, with its capture time
      var q2 = load(); if (q2.length && q2[0].body.client_id === item.body.client_id) { q2[0].tried = true; save(q2); }
      sending = false;
    });
  }
  function markDone(item, data) {
    var card = document.querySelector('[data-job="' + item.body.job_id + '"] [data-state]');
    if (card && data && data.kind) card.textContent = item.body.label || data.kind;
  }
  function position(cb) {
    if (!navigator.geolocation) return cb(null);
    var done = false;
    var t = setTimeout(function () { if (!done) { done = true; cb(null); } }, 8000);
    navigator.geolocation.getCurrentPosition(function (p) {
      if (done) return; done = true; clearTimeout(t);
      cb({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy: p.coords.accuracy });
    }, function () { if (!done) { done = true; clearTimeout(t); cb(null); } }, { enableHighAccuracy: true, timeout: 7000, maximumAge: 30000 });
  }
  function api(jobId, what) { return "/api/v1/field/jobs/" + jobId + "/" + what; }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("[data-event], [data-ack], [data-open-complete]") : null;
    if (!b) return;
    if (b.hasAttribute("data-ack")) {
      enqueue(api(b.getAttribute("data-ack"), "acknowledge"), { job_id: b.getAttribute("data-ack") });
      return;
    }
    if (b.hasAttribute("data-open-complete")) {
      var f = document.querySelector('[data-complete="' + b.getAttribute("data-open-complete") + '"]');
      if (f) f.hidden = !f.hidden;
      return;
    }
    var jobId = b.getAttribute("data-job-id"), kind = b.getAttribute("data-event");
    var captured = new Date().toISOString();
    b.disabled = true;
    position(function (pos) {
      var body = { kind: kind, job_id: jobId, device_at: captured, client_id: uid(), label: b.textContent };
      if (pos) { body.lat = pos.lat; body.lng = pos.lng; body.accuracy = pos.accuracy; body.source = kind === "arrived" ? "gps" : ""; }
      else if (kind === "arrived") {
        body.source = "customer_code";
        body.code = window.prompt(b.getAttribute("data-code-prompt") || "客户确认码") || "";
      }
      enqueue(api(jobId, "events"), body);
      b.disabled = false;
    });
  });

  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (!f.hasAttribute || !f.hasAttribute("data-complete")) return;
    ev.preventDefault();
    var jobId = f.getAttribute("data-complete");
    var lines = (f.elements.lines.value || "").split(/[,，]/).map(function (s) { return s.trim(); }).filter(Boolean).map(function (s) {
      var p = s.split(/[×x*]/); return { code: p[0].trim(), quantity: (p[1] || "1").trim() };
    });
    var serials = f.elements.new_meter.value ? [{ kind: "meter", old: "", "new": f.elements.new_meter.value }] : [];
    enqueue(api(jobId, "complete"), {
      job_id: jobId, cause: f.elements.cause.value, measures: f.elements.measures.value, lines: lines,
      serials: serials, receipt_no: f.elements.receipt_no.value, resolved: f.elements.resolved.checked
    });
    var photo = f.elements.photo && f.elements.photo.files[0];
    if (photo && navigator.onLine) {
      var fd = new FormData(); fd.append("file", photo);
      fetch(api(jobId, "photos") + "?stage=after", { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() }, body: fd })
        .then(function (r) { if (!r.ok) error("照片上传失败 HTTP " + r.status); });
    }
    f.hidden = true;
  });

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("data-due")) - now, m = Math.floor(Math.abs(ms) / 60000), s = Math.floor(Math.abs(ms) / 1000) % 60;
      var txt = (m >= 60 ? Math.floor(m / 60) + ":" + String(m % 60).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
      el.textContent = (ms < 0 ? el.getAttribute("data-late") + " " : el.getAttribute("data-left") + " ") + txt;
      el.classList.toggle("late", ms < 0);
    });
  }
  window.addEventListener("online", function () { show(); flush(); });
  window.addEventListener("offline", show);
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("phone");
    if (root && "serviceWorker" in navigator) navigator.serviceWorker.register(root.getAttribute("data-sw"), { scope: "/field/" }).catch(function () {});
    show(); tick(); flush();
    setInterval(tick, 1000);
    setInterval(flush, 10000);
  });
  window.kefuFieldQueue = { load: load, flush: flush };
})();
