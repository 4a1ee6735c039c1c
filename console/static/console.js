// The console's one script: live updates, keyboard shortcuts and canned answers.
// Pages work without it; it saves reloads and keystrokes.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var page = main ? main.dataset.page : "";

  // Live: the server says which conversation changed; the page shown is fetched again
  // and its parts that show state are swapped in (never a form being typed in).
  var pending = null;
  function refresh() {
    pending = null;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["inbox", "counts", "transcript", "state"].forEach(function (id) {
          var now = document.getElementById(id), next = doc.getElementById(id);
          if (now && next) { now.replaceWith(next); }
        });
        var list = document.getElementById("inbox");
        if (!list && page === "inbox") { location.reload(); }
        document.dispatchEvent(new CustomEvent("console:refreshed"));
      })
      .catch(function () {});
  }
  if (window.EventSource && (page === "inbox" || page === "conversation")) {
    var es = new EventSource("/console/events");
    // Once open, every change is told; one made between the page's rendering and the
    // stream's opening (or while it was reconnecting) is caught by looking once more.
    es.addEventListener("open", function () {
      if (!pending) { pending = setTimeout(refresh, 300); }
      document.body.dataset.live = "on";
    });
    es.addEventListener("error", function () { document.body.dataset.live = "off"; });
    es.addEventListener("change", function (e) {
      if (page === "conversation" && e.data !== main.dataset.key) { return; }
      if (!pending) { pending = setTimeout(refresh, 300); }
    });
  }

  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT" || t.isContentEditable);
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) { return; }
    var el = null;
    if (e.key === "r") { el = document.getElementById("reply"); }
    if (e.key === "n") { el = document.getElementById("note"); }
    if (el) { e.preventDefault(); el.focus(); return; }
    if (e.key === "e") {
      var f = document.getElementById("resolve");
      if (f) { e.preventDefault(); f.requestSubmit(); }
    }
  });
  document.addEventListener("change", function (e) {
    var sel = e.target;
    if (!sel || !sel.dataset || !sel.dataset.target || !sel.value) { return; }
    var box = document.getElementById(sel.dataset.target);
    if (box) { box.value = sel.value; box.focus(); }
  });
})();
