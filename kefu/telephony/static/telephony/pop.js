// Screen pop (P2): an agent's pages ask every second whether the agent has just answered a call;
// when so, the browser opens the desk with the caller already looked up. Loaded from base.html
// for roles that take calls; no inline script (CSP).
(function () {
  "use strict";
  var me = document.currentScript;
  var url = me && me.dataset.popUrl;
  if (!url || !window.fetch) return;
  var busy = false;
  function ask() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.status === 200 ? r.json() : null; })
      .then(function (body) { if (body && body.url) window.location.assign(body.url); })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  setInterval(ask, 1000);
})();
