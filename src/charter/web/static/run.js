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
      watchTimebox(el, us, estimate, running);
    }
  }

  // --- the end of the time box: a visible alert, and a chime only when enabled -------
  var CHIME_KEY = "charter:chime";
  function chimeOn() {
    try { return window.localStorage.getItem(CHIME_KEY) === "on"; } catch (e) { return false; }
  }
  function chime() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      var ctx = new Ctx();
      [0, 0.35].forEach(function (start) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.2, ctx.currentTime + start);
        gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + start + 0.3);
        osc.connect(gain).connect(ctx.destination);
        osc.start(ctx.currentTime + start);
        osc.stop(ctx.currentTime + start + 0.3);
      });
    } catch (e) { /* no audio: the visible alert is enough */ }
  }
  // Called by tick(): only a crossing seen on this page alerts (not a page opened late).
  function watchTimebox(el, us, estimate, running) {
    if (!estimate) return;
    if (el.charterUnder === undefined) el.charterUnder = us <= estimate;
    if (running && el.charterUnder && us > estimate && !window.charterTimeboxAlerted) {
      window.charterTimeboxAlerted = true;
      var alert = document.getElementById("timebox-alert");
      if (alert) alert.hidden = false;
      if (chimeOn()) chime();
    }
    if (us <= estimate) el.charterUnder = true;
  }
  function setupChime() {
    var box = document.querySelector("[data-chime-setting]");
    if (!box) return;
    box.checked = chimeOn();
    box.addEventListener("change", function () {
      try { window.localStorage.setItem(CHIME_KEY, box.checked ? "on" : "off"); } catch (e) { /* */ }
    });
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
    // The files went with the note: the next note starts without any.
    var pending = document.getElementById("pending-files");
    if (pending) pending.textContent = "";
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
  function ready() {
    restoreDraft();
    setupChime();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();

// Shortcuts (the ? list), the image viewer, and attaching files (paste, drop, pick).
(function () {
  "use strict";

  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || el.isContentEditable ||
      (tag === "input" && !/^(checkbox|radio|button|submit|reset|file)$/.test(el.type));
  }
  function say(text) {
    var box = document.getElementById("run-message");
    if (box) box.textContent = text;
  }

  // --- the shortcut list: a modal <dialog> (focus moves in, Esc closes, focus returns)
  var QUESTION_KEY = "charter:question-key";
  function questionKeyOn() {
    try { return window.localStorage.getItem(QUESTION_KEY) !== "off"; } catch (e) { return true; }
  }
  function openDialog(dialog) {
    if (!dialog || dialog.open) return;
    dialog.charterOpener = document.activeElement;
    dialog.showModal();
  }
  document.addEventListener("close", function (event) {
    var opener = event.target.charterOpener;
    // The close event comes a moment after the dialog closed: focus that moved on
    // meanwhile (a click, a shortcut) is left where it went.
    var active = document.activeElement;
    var moved = active && active !== document.body && !event.target.contains(active);
    if (opener && opener.focus && !moved) opener.focus();
  }, true);
  function showShortcuts() {
    openDialog(document.getElementById("shortcuts-help"));
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcuts-open]")) showShortcuts();
  });
  document.addEventListener("change", function (event) {
    if (!event.target.matches || !event.target.matches("[data-question-key]")) return;
    var on = event.target.checked;
    try { window.localStorage.setItem(QUESTION_KEY, on ? "on" : "off"); } catch (e) { /* */ }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-question-key]");
    if (box) box.checked = questionKeyOn();
  });

  function clickIn(selector) {
    var el = document.querySelector(selector);
    if (el) el.click();
    return !!el;
  }
  var ALT_KEYS = {
    KeyN: function () {
      var text = document.getElementById("note-text");
      if (text) text.focus();
      return !!text;
    },
    KeyP: function () {
      return clickIn('#run-controls form[action$="/start"] button, #run-controls form[action$="/pause"] button, #run-controls form[action$="/resume"] button');
    },
    KeyE: function () {
      return clickIn("#timeline .note-actions a");
    },
    KeyT: function () {
      var first = document.querySelector("#timeline > li") || document.getElementById("timeline-heading");
      if (!first) return false;
      if (!first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
      first.focus();
      return true;
    },
    KeyU: function () {
      return clickIn("[data-upload-input]");
    }
  };
  document.addEventListener("keydown", function (event) {
    if (document.querySelector("dialog[open]")) return;  // the dialog has the keyboard
    if (event.key === "?" && !event.ctrlKey && !event.altKey && !event.metaKey &&
        !typing(event.target) && questionKeyOn()) {
      event.preventDefault();
      showShortcuts();
      return;
    }
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.getModifierState && event.getModifierState("AltGraph")) return;
    var action = ALT_KEYS[event.code];
    if (action && action()) event.preventDefault();
  });
  // A note opened for editing gets the keyboard at once.
  document.addEventListener("htmx:afterSettle", function (event) {
    var info = event.detail.pathInfo || {};
    var match = /\/notes\/(\d+)\/edit$/.exec(info.requestPath || "");
    var editing = match ? document.getElementById("note-text-" + match[1]) : null;
    if (editing) editing.focus();
  });

  // --- the image viewer: thumbnails of one group (a note, or the gallery) -----------
  var group = [];
  var position = 0;
  function showImage() {
    var link = group[position];
    var image = document.getElementById("viewer-image");
    var name = link.getAttribute("data-name");
    image.src = link.getAttribute("data-full");
    image.alt = name;
    document.getElementById("viewer-name").textContent = name;
    document.getElementById("viewer-download").href = link.getAttribute("data-download");
    document.getElementById("viewer-position").textContent = (position + 1) + " of " + group.length;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-viewer]") : null;
    var dialog = document.getElementById("viewer");
    if (!link || !dialog || !dialog.showModal || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    var list = link.closest("ul") || document;
    group = Array.prototype.slice.call(list.querySelectorAll("a[data-viewer]"));
    position = Math.max(0, group.indexOf(link));
    showImage();
    openDialog(dialog);
  });
  function step(by) {
    if (!group.length) return;
    position = (position + by + group.length) % group.length;
    showImage();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-viewer-step]") : null;
    if (button) step(parseInt(button.getAttribute("data-viewer-step"), 10));
  });
  document.addEventListener("keydown", function (event) {
    var dialog = document.getElementById("viewer");
    if (!dialog || !dialog.open) return;
    if (event.key === "ArrowLeft") { event.preventDefault(); step(-1); }
    if (event.key === "ArrowRight") { event.preventDefault(); step(1); }
  });

  // --- attaching files: each file uploads at once (with progress) to the session; the
  // note being written takes their ids (hidden inputs) and owns them once added. A
  // failure says why and offers a retry; the note's text is never touched.
  function sizeText(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.ceil(bytes / 1024) + " KB";
  }
  var REASONS = {
    403: "you may not add files to this session",
    404: "the session no longer exists",
    409: "the session is closed; reopen it to add files",
    413: "it is too large for the server"
  };
  function upload(file, item, area) {
    var status = item.querySelector(".pending-status");
    var bar = item.querySelector("progress");
    var limit = parseInt(area.getAttribute("data-max-bytes"), 10) || 0;
    item.className = "pending-file uploading";
    if (limit && file.size > limit) {
      return failed(item, file, area, "too large (" + sizeText(file.size) + "; the limit is " + sizeText(limit) + ")", false);
    }
    var data = new FormData();
    data.append("files[]", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", area.getAttribute("data-upload"));
    xhr.setRequestHeader("X-CSRF-Token", window.charter ? window.charter.csrfToken() : "");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
    });
    status.textContent = "uploading…";
    xhr.onerror = function () {
      failed(item, file, area, "the server could not be reached (offline?)", true);
    };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (/\/login(\?|$)/.test(xhr.responseURL || "")) {
        return failed(item, file, area, "you are signed out; sign in again in another tab", true);
      }
      if (xhr.status !== 201 || !body) {
        var why = (body && body.message) || REASONS[xhr.status] || "the server answered " + xhr.status;
        if (xhr.status === 409 || xhr.status === 413) why = REASONS[xhr.status] + (body && body.message ? " (" + body.message + ")" : "");
        return failed(item, file, area, why, xhr.status !== 413 && xhr.status !== 403);
      }
      var made = body.result[0];
      item.className = "pending-file done";
      bar.hidden = true;
      status.textContent = "attached";
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "attachments";
      input.value = made.id;
      item.appendChild(input);
      if (made.thumbnail) {
        var img = document.createElement("img");
        img.src = made.thumbnail;
        img.alt = "";
        img.width = 48;
        img.height = 48;
        item.insertBefore(img, item.firstChild);
      }
      var gallery = document.getElementById("gallery");
      if (gallery && body.gallery) gallery.outerHTML = body.gallery;
    };
    xhr.send(data);
  }
  function failed(item, file, area, why, retry) {
    item.className = "pending-file failed";
    item.querySelector("progress").hidden = true;
    var status = item.querySelector(".pending-status");
    status.textContent = "not attached: " + why + ".";
    status.setAttribute("role", "alert");
    if (retry) {
      var again = document.createElement("button");
      again.type = "button";
      again.className = "link-button";
      again.textContent = "Retry";
      again.addEventListener("click", function () {
        again.remove();
        item.querySelector("progress").hidden = false;
        status.removeAttribute("role");
        upload(file, item, area);
      });
      item.appendChild(again);
    }
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link-button";
    remove.textContent = "Dismiss";
    remove.addEventListener("click", function () { item.remove(); });
    item.appendChild(remove);
  }
  function attach(files) {
    var area = document.querySelector("[data-upload]");
    var list = document.getElementById("pending-files");
    if (!area || !list) {
      say("Files can be attached only while the session is open and you may run it.");
      return;
    }
    for (var i = 0; i < files.length; i++) {
      var file = files[i];
      var item = document.createElement("li");
      item.className = "pending-file";
      var name = document.createElement("span");
      name.className = "pending-name";
      name.textContent = file.name + " (" + sizeText(file.size) + ")";
      var bar = document.createElement("progress");
      bar.max = file.size || 1;
      bar.value = 0;
      bar.setAttribute("aria-label", "Uploading " + file.name);
      var status = document.createElement("span");
      status.className = "pending-status";
      item.appendChild(name);
      item.appendChild(bar);
      item.appendChild(status);
      list.appendChild(item);
      upload(file, item, area);
    }
  }
  function stamp() {
    var d = new Date();
    function two(n) { return String(n).padStart(2, "0"); }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + "-" +
      two(d.getHours()) + two(d.getMinutes()) + two(d.getSeconds());
  }
  document.addEventListener("change", function (event) {
    if (!event.target.matches || !event.target.matches("[data-upload-input]")) return;
    attach(event.target.files);
    event.target.value = "";
  });
  document.addEventListener("paste", function (event) {
    var form = event.target.closest ? event.target.closest("#note-form") : null;
    var items = event.clipboardData ? event.clipboardData.files : null;
    if (!form || !items || !items.length) return;  // text pastes as text
    event.preventDefault();
    var files = [];
    for (var i = 0; i < items.length; i++) {
      var f = items[i];
      // A screenshot arrives as "image.png": name it after the moment it was taken.
      var ext = (f.type.split("/")[1] || "bin").replace("jpeg", "jpg");
      files.push(/^image\.\w+$/.test(f.name) ? new File([f], "screenshot-" + stamp() + "." + ext, { type: f.type }) : f);
    }
    attach(files);
  });
  function hasFiles(event) {
    var types = event.dataTransfer ? event.dataTransfer.types : null;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
  }
  document.addEventListener("dragover", function (event) {
    if (!hasFiles(event) || !document.querySelector("[data-upload]")) return;
    event.preventDefault();
    document.body.classList.add("dropping");
  });
  document.addEventListener("dragleave", function (event) {
    if (event.target === document.documentElement || event.target === document.body) document.body.classList.remove("dropping");
  });
  document.addEventListener("drop", function (event) {
    document.body.classList.remove("dropping");
    if (!hasFiles(event) || !document.querySelector("[data-upload]")) return;
    event.preventDefault();
    attach(event.dataTransfer.files);
  });
})();
