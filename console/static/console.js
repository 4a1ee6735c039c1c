// The console's one script: keyboard shortcuts and canned answers. Pages work without
// it; it only saves keystrokes.
(function () {
  "use strict";
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
