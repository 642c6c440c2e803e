/* Dashboard: draws each chart widget with plotly.js (a click opens the drill-down list),
   and lets the owner arrange widgets by dragging (or with the arrow and size buttons,
   the keyboard alternative); the new order and widths are saved at once. */
(function () {
  "use strict";
  document.querySelectorAll(".cb-widget-chart").forEach(function (node) {
    var figure = JSON.parse(node.dataset.figure), points = JSON.parse(node.dataset.points);
    window.Plotly.newPlot(node, figure.data, figure.layout, {responsive: true, displaylogo: false,
      locale: document.documentElement.lang || "en"});
    node.on("plotly_click", function (event) {
      var c = event.points && event.points[0] && event.points[0].customdata;
      if (!c) { return; }
      var url = c[0] >= 0 && c[1] >= 0 ? points.cells[c[0]][c[1]].url : c[0] >= 0 ? points.rows[c[0]]
        : c[1] >= 0 ? points.columns[c[1]] : points.total;
      window.location.href = url;
    });
  });

  var grid = document.getElementById("cb-dashboard"), toggle = document.getElementById("cb-arrange");
  if (!grid || !toggle) { return; }
  var dragged = null;
  function widgets() { return Array.prototype.slice.call(grid.querySelectorAll(".cb-widget")); }
  function save() {
    var items = widgets();
    fetch(grid.dataset.layoutUrl, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": window.cardbase.csrfToken()},
      body: JSON.stringify({order: items.map(function (w) { return parseInt(w.dataset.index, 10); }),
                            sizes: items.map(function (w) { return parseInt(w.dataset.width, 10); })})})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.error) { window.alert(body.error); return; }
        widgets().forEach(function (w, i) { w.dataset.index = String(i); });
      });
  }
  function resize(w, step) {
    var width = Math.max(1, Math.min(12, parseInt(w.dataset.width, 10) + step));
    w.classList.remove("col-md-" + w.dataset.width); w.classList.add("col-md-" + width);
    w.dataset.width = String(width);
    window.dispatchEvent(new Event("resize"));
  }
  toggle.addEventListener("click", function () {
    var on = grid.classList.toggle("cb-arranging");
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    widgets().forEach(function (w) { w.draggable = on; });
  });
  grid.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-move], button[data-size]");
    if (!button) { return; }
    var w = button.closest(".cb-widget");
    if (button.dataset.size) { resize(w, parseInt(button.dataset.size, 10)); }
    else if (button.dataset.move === "-1" && w.previousElementSibling) { grid.insertBefore(w, w.previousElementSibling); }
    else if (button.dataset.move === "1" && w.nextElementSibling) { grid.insertBefore(w.nextElementSibling, w); }
    button.focus();
    save();
  });
  grid.addEventListener("dragstart", function (event) {
    dragged = event.target.closest(".cb-widget");
    if (dragged) { dragged.classList.add("cb-dragging"); event.dataTransfer.effectAllowed = "move"; }
  });
  grid.addEventListener("dragover", function (event) {
    var over = event.target.closest(".cb-widget");
    if (!dragged || !over || over === dragged) { return; }
    event.preventDefault();
    var box = over.getBoundingClientRect();
    grid.insertBefore(dragged, (event.clientX - box.left) > box.width / 2 ? over.nextSibling : over);
  });
  grid.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("cb-dragging"); dragged = null; save(); }
  });
})();
