// The session page: the live timer, the note box's keyboard shortcuts, and showing
// what the server refused. No inline scripts (CSP); everything hangs on data- attributes.
(function () {
  "use strict";

  // --- the timer: elapsed against the estimate, ticked from the server's values ---
  function clock(us) {
    var s = Math.max(0, Math.floor(us / 1e6));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
  }

  function tick() {
    var timers = document.querySelectorAll("[data-timer]");
    for (var i = 0; i < timers.length; i++) {
      var el = timers[i];
      // Each server value is counted from when it arrived: a swapped-in timer is new.
      if (!el.charterSince) el.charterSince = Date.now();
      var base = parseInt(el.getAttribute("data-elapsed-us"), 10) || 0;
      var running = el.getAttribute("data-running") === "true";
      var estimate = parseInt(el.getAttribute("data-estimate-us"), 10) || 0;
      var us = base + (running ? (Date.now() - el.charterSince) * 1000 : 0);
      var text = el.querySelector("[data-timer-text]");
      if (text) text.textContent = clock(us);
      var bar = el.querySelector("[data-timer-progress]");
      if (bar && estimate) bar.value = Math.min(us, estimate) / 1e6;
      el.classList.toggle("over", estimate > 0 && us > estimate);
    }
  }

  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);

  // --- keyboard: Alt+0..9 picks a status, Ctrl/Cmd+Enter adds the note ---------
  function noteForm(target) {
    var own = target && target.closest ? target.closest("form[data-note-form]") : null;
    return own || document.getElementById("note-form");
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey) {
      var form = event.target.closest ? event.target.closest("form[data-note-form]") : null;
      if (!form) return;
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    // Alt alone: AltGr (reported as Ctrl+Alt on Windows) types characters, leave it.
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.getModifierState && event.getModifierState("AltGraph")) return;
    var match = /^(?:Digit|Numpad)([0-9])$/.exec(event.code || "");
    if (!match) return;
    var target = noteForm(event.target);
    if (!target) return;
    var radio = target.querySelector('input[name="status_id"][data-key="' + match[1] + '"]');
    if (!radio) return;
    event.preventDefault();
    radio.checked = true;
    var message = document.getElementById("run-message");
    if (message) message.textContent = "";
  });

  // --- after a note was added: empty the box for the next one ------------------
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    // A 422 counts as successful once beforeSwap below lets it swap: check the status.
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (!form || form.id !== "note-form" || status < 200 || status >= 300) return;
    var text = form.querySelector("textarea");
    if (text) {
      text.value = "";
      text.focus();
    }
    var issues = form.querySelector("select[name=issues]");
    if (issues) issues.selectedIndex = -1;
    // The note's own fields (the template's result fields) start empty again too.
    var own = form.querySelectorAll("#custom-fields input, #custom-fields textarea");
    for (var i = 0; i < own.length; i++) {
      var input = own[i];
      if (input.type === "checkbox") input.checked = false;
      else if (input.type === "radio") input.checked = input.value === "";
      else input.value = "";
    }
    // The next note starts without a status: a status stays only when chosen again.
    var none = form.querySelector('input[name="status_id"][value=""]');
    if (none) none.checked = true;
    var error = document.getElementById("note-error");
    if (error) error.textContent = "";
  });

  // A 422 carries the field errors (swapped out of band); other refusals (403, 409,
  // ...) are full error pages, so say so in the page's message box instead.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    // A refusal that carries its own explanation (a stale or closed note edit, with
    // the typed text kept) is swapped in like a success.
    if (xhr.status === 422 || (xhr.getResponseHeader && xhr.getResponseHeader("X-Charter-Swap"))) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // What a failed request was about, in words: the note box says which note.
  function whatFailed(elt) {
    var form = elt && elt.closest ? elt.closest("form") : null;
    var text = form ? form.querySelector("textarea[name=note]") : null;
    if (text && text.value.trim()) {
      var words = text.value.trim();
      return "your note \u201c" + (words.length > 60 ? words.slice(0, 60) + "\u2026" : words) + "\u201d";
    }
    return "this change";
  }

  function say(text) {
    var box = document.getElementById("run-message");
    if (box) box.textContent = text;
  }

  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.getResponseHeader && event.detail.xhr.getResponseHeader("X-Charter-Swap")) return;
    var status = event.detail.xhr.status;
    var reasons = { 403: "you may not do this", 404: "it no longer exists", 409: "the session changed (closed?)" };
    say("Not saved: " + whatFailed(event.detail.elt) + ", because " +
      (reasons[status] || "the server answered " + status) +
      ". Reload the page to see the session as it is now.");
  });
  // No answer at all (offline, server down): nothing was saved; the text stays in its
  // box (and in the draft below), and the same button tries again.
  document.addEventListener("htmx:sendError", function (event) {
    say("Not saved: " + whatFailed(event.detail.elt) + " could not reach the server " +
      "(offline?). It is kept here; press the button again to retry.");
  });
  document.addEventListener("htmx:timeout", function (event) {
    say("Not saved: " + whatFailed(event.detail.elt) + " timed out. It is kept here; try again.");
  });
  // A success clears an earlier failure's message: it no longer tells the truth.
  document.addEventListener("htmx:afterRequest", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var box = document.getElementById("run-message");
    if (box && status >= 200 && status < 300 && /^(Not saved|Your unsent note)/.test(box.textContent)) box.textContent = "";
  });

  // --- an unsent note survives a reload: a draft per session in localStorage -----
  function draftKey(form) {
    return "charter:note-draft:" + form.getAttribute("action");
  }
  function store(fn) {
    try { fn(window.localStorage); } catch (e) { /* storage off: no drafts */ }
  }
  document.addEventListener("input", function (event) {
    var form = event.target.closest ? event.target.closest("#note-form") : null;
    if (!form || event.target.name !== "note") return;
    var value = event.target.value;
    store(function (ls) {
      if (value.trim()) ls.setItem(draftKey(form), value); else ls.removeItem(draftKey(form));
    });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (form && form.id === "note-form" && status >= 200 && status < 300) {
      store(function (ls) { ls.removeItem(draftKey(form)); });
    }
  });
  function restoreDraft() {
    var form = document.getElementById("note-form");
    var text = form ? form.querySelector("textarea[name=note]") : null;
    if (!text || text.value) return;
    store(function (ls) {
      var draft = ls.getItem(draftKey(form));
      if (!draft) return;
      text.value = draft;
      say("Your unsent note is back in the box: it was not saved yet. Add it, or clear it.");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restoreDraft);
  } else {
    restoreDraft();
  }
})();
