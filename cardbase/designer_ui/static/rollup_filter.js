// The rollup's condition builder follows the chosen child object: only the builder of that
// object shows, and only its condition is posted (the others' textareas are disabled).
(function () {
  "use strict";

  function follow(root) {
    var child = root.querySelector("[data-rollup-child]");
    var boxes = root.querySelectorAll("[data-rollup-filter-for]");
    if (!child || !boxes.length) { return; }
    function show() {
      boxes.forEach(function (box) {
        var mine = box.getAttribute("data-rollup-filter-for") === child.value;
        box.hidden = !mine;
        box.querySelectorAll("textarea").forEach(function (t) { t.disabled = !mine; });
      });
    }
    child.addEventListener("change", show);
    show();
  }

  document.addEventListener("DOMContentLoaded", function () { follow(document); });
})();
