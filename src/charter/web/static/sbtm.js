// The SBTM fields of a session form: each group of percentages (T/B/S, C/O) keeps
// its sum at 100 while typing, and a picked or typed area joins the areas list.
// Progressive: without it the server validates the same fields. No inline scripts (CSP).
(function () {
  "use strict";

  function value(input) {
    var n = parseInt(input.value, 10);
    return isNaN(n) ? 0 : n;
  }

  // After `changed` changes, the last other box of its group takes what is left
  // (the first box, when the last one changed), clamped to 0..100.
  function balance(group, changed) {
    var boxes = Array.prototype.slice.call(group.querySelectorAll('input[type="number"]'));
    var i = boxes.indexOf(changed);
    if (i < 0 || boxes.length < 2 || changed.value === "") return;
    var target = i === boxes.length - 1 ? boxes[0] : boxes[boxes.length - 1];
    var others = 0;
    boxes.forEach(function (b) { if (b !== target) others += value(b); });
    target.value = String(Math.max(0, Math.min(100, 100 - others)));
  }

  function addArea(box, list) {
    var name = box.value.trim();
    if (!name) return;
    var lines = list.value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
    var key = name.toLowerCase();
    if (!lines.some(function (l) { return l.toLowerCase() === key; })) lines.push(name);
    list.value = lines.join("\n");
    box.value = "";
  }

  document.addEventListener("input", function (e) {
    var group = e.target.closest && e.target.closest("[data-sum-group]");
    if (group) balance(group, e.target);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var fields = document.querySelectorAll("[data-sbtm-fields]");
    Array.prototype.forEach.call(fields, function (f) {
      var box = f.querySelector("[data-area-new]");
      var list = f.querySelector("[data-area-list]");
      if (!box || !list) return;
      // Picking from the list (or Enter) moves the area into the list.
      box.addEventListener("change", function () { addArea(box, list); });
      box.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); addArea(box, list); }
      });
    });
  });
})();
