// Screen pop (P2): in the browser where the agent has opened "我的坐席" (the console), the agent's
// pages ask every second whether the agent has just answered a call; when so, the browser opens the
// desk with the caller already looked up. Signing out on the console stops it. Loaded from base.html
// for roles that take calls; no inline script (CSP).
(function () {
  "use strict";
  var me = document.currentScript;
  var url = me && me.dataset.popUrl;
  if (!url || !window.fetch || !window.localStorage) return;
  var KEY = "kefu.telephony.pop";
  document.addEventListener("DOMContentLoaded", function () {
    var seat = document.getElementById("pop-seat");
    if (seat) localStorage.setItem(KEY, seat.dataset.pop === "on" ? "1" : "0");
  });
  document.addEventListener("submit", function (ev) {
    var off = ev.target && ev.target.querySelector && ev.target.querySelector("[name=state][value=logged_out]");
    if (off) localStorage.setItem(KEY, "0");
  });
  var busy = false;
  function ask() {
    if (busy || document.hidden || localStorage.getItem(KEY) !== "1") return;
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.status === 200 ? r.json() : null; })
      .then(function (body) { if (body && body.url) window.location.assign(body.url); })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  setInterval(ask, 1000);
})();
