// Live updates (server-sent events). A page opts in with one element:
//   <div hidden data-live="/sessions/7/events"
//        data-live-regions="#counters #run-controls" data-live-lists="#timeline"></div>
// Each event only says that something changed; the page then fetches itself again (an
// ordinary GET, with the viewer's permissions) and swaps in the fresh regions, and the
// new or changed items of the lists (items keep their ids; nothing is removed, so
// older items loaded on demand stay). A text box, select or note being edited is never
// replaced under the user's hands. Without EventSource or JavaScript the page is the
// same page; reloading shows the news.
(function () {
  "use strict";
  var root = document.querySelector("[data-live]");
  if (!root || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var url = root.getAttribute("data-live");
  function words(name) {
    return (root.getAttribute(name) || "").split(/\s+/).filter(Boolean);
  }
  var regions = words("data-live-regions");
  var lists = words("data-live-lists");
  var timer = null;
  var busy = false;
  var again = false;
  var connected = false;
  var refreshes = 0;

  function typingIn(element) {
    var active = document.activeElement;
    if (!active || !element.contains(active)) return false;
    return /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) || active.isContentEditable;
  }

  function adopt(node) {
    var fresh = document.importNode(node, true);
    return fresh;
  }

  function activate(node) {
    if (window.htmx) window.htmx.process(node);
  }

  function swapRegion(doc, selector) {
    var fresh = doc.querySelector(selector);
    var current = document.querySelector(selector);
    if (!fresh || !current || typingIn(current)) return;
    if (fresh.outerHTML === current.outerHTML) return;
    var node = adopt(fresh);
    current.replaceWith(node);
    activate(node);
  }

  function mergeList(doc, selector) {
    var fresh = doc.querySelector(selector);
    var current = document.querySelector(selector);
    if (!fresh || !current) return;
    var previous = null;
    Array.prototype.forEach.call(fresh.children, function (item) {
      if (!item.id) return;
      var mine = document.getElementById(item.id);
      var node = mine;
      if (!mine) {
        node = adopt(item);
        node.classList.add("live-new");
        if (previous) previous.after(node);
        else current.prepend(node);
        activate(node);
      } else if (
        mine.outerHTML !== item.outerHTML &&
        !mine.querySelector("form") &&
        !typingIn(mine)
      ) {
        node = adopt(item);
        mine.replaceWith(node);
        activate(node);
      }
      previous = node;
    });
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(window.location.href, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-Charter-Live": "1" },
    })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        regions.forEach(function (selector) { swapRegion(doc, selector); });
        lists.forEach(function (selector) { mergeList(doc, selector); });
        // A count on the page, so that scripts and tests can tell a refresh happened.
        refreshes += 1;
        root.setAttribute("data-live-refreshes", String(refreshes));
        document.dispatchEvent(new CustomEvent("charter:live-refreshed"));
      })
      .catch(function () { /* offline: the next event or reconnect tries again */ })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  function schedule() {
    // Several changes in a burst (a bulk of notes) make one refresh.
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      refresh();
    }, 250);
  }

  var source = new EventSource(url);
  source.addEventListener("ready", function () {
    // After a broken connection: changes may have been missed, so catch up once.
    if (connected) schedule();
    connected = true;
    root.setAttribute("data-live-state", "open");
  });
  source.addEventListener("error", function () {
    root.setAttribute("data-live-state", source.readyState === 2 ? "closed" : "connecting");
  });
  source.addEventListener("change", schedule);
  source.addEventListener("denied", function () {
    source.close();
    root.setAttribute("data-live-state", "closed");
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
