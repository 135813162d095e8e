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
