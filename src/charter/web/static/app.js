// Charter web UI helpers. No inline scripts anywhere (the CSP forbids them): pages
// opt in with data- attributes.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every htmx request carries the CSRF token; the server refuses unsafe methods
  // without it (forms carry it in a hidden field instead).
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // <button data-copy="#element-id">: copy that element's text to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    });
  });

  // <form data-confirm="Really?">: ask before submitting (plain forms; htmx has hx-confirm).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // <details data-open-wide>: folded on a phone (the content comes first), open on
  // wider screens, where there is room for it.
  function openWide() {
    if (!window.matchMedia || !window.matchMedia("(min-width: 40.0625rem)").matches) return;
    var folds = document.querySelectorAll("details[data-open-wide]");
    for (var i = 0; i < folds.length; i++) folds[i].open = true;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", openWide);
  else openWide();

  // <form method="get" data-auto-apply>: a filter form applies as soon as a control
  // changes (a text box when it is left or Enter is pressed), so the URL stays the
  // shareable state of the list; the Apply button is there for pages without JS.
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form || !form.hasAttribute("data-auto-apply")) return;
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  });

  // Expose the token for page scripts (static/*.js) that send their own requests.
  window.charter = { csrfToken: csrfToken };
})();
