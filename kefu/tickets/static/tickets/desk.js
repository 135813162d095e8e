// Agent desk: required marks follow the kind (P5), sub-kinds follow the kind, Ctrl+Enter saves.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("ticket-form");
    if (!form) return;
    var kind = form.querySelector("#id_kind");
    var sub = form.querySelector("#id_sub_kind");
    function sync() {
      var opt = kind.options[kind.selectedIndex];
      if (!opt) return;
      var need = { phone: opt.dataset.phone, address: opt.dataset.address, name: opt.dataset.name };
      form.querySelectorAll(".req[data-for]:not([data-for=answer])").forEach(function (el) {
        el.hidden = !need[el.dataset.for];
      });
      form.querySelector("#id_caller_phone").required = !!need.phone;
      form.querySelector("#id_address").required = !!need.address;
      form.querySelectorAll(".oncall").forEach(function (el) { el.hidden = !opt.dataset.oncall; });
      if (sub) {
        var label = opt.textContent.trim();
        sub.querySelectorAll("optgroup").forEach(function (g) {
          var mine = g.label === label;
          g.hidden = !mine; g.disabled = !mine;
        });
        var cur = sub.options[sub.selectedIndex];
        if (cur && cur.value && cur.parentNode.label !== label) sub.value = "";
      }
    }
    kind.addEventListener("change", sync);
    sync();
    // "当场解答" makes the answer required (C15; the service refuses it without one as well).
    var oncall = form.querySelector("#id_resolved_on_call");
    var answer = form.querySelector("#id_answer");
    var answerMark = form.querySelector('.req[data-for="answer"]');
    function syncAnswer() {
      if (!oncall || !answer) return;
      answer.required = oncall.checked;
      if (answerMark) answerMark.hidden = !oncall.checked;
    }
    if (oncall) oncall.addEventListener("change", syncAnswer);
    syncAnswer();
    form.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
