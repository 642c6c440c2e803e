// cardbase calendar: drag an entry to another day to reschedule it (HTML5 drag API). The
// move is an ordinary edit: POST {id, version, date} to the grid's move URL; the server
// answers the new version and an Undo. On a conflict, a refused value or missing rights the
// entry goes back to its day and the message shows above the grid. A day's "+" is a plain
// link to a new record on that day (no script needed).
(function () {
  "use strict";

  function init() {
    var grid = document.getElementById("cb-cal-grid");
    if (!grid || grid.getAttribute("data-can-move") !== "true") { return; }
    var moveUrl = grid.getAttribute("data-move-url");
    var failedText = grid.getAttribute("data-failed") || "";
    var message = document.getElementById("cb-cal-message");
    var status = document.getElementById("cb-cal-status");
    var undo = document.getElementById("cb-cal-undo");

    function showMessage(text) {
      message.textContent = text;
      message.classList.toggle("d-none", !text);
    }
    function place(item, day) {
      var more = day.querySelector(".cb-cal-more");
      day.insertBefore(item, more || null);
    }

    function move(item, day) {
      var from = item.closest(".cb-cal-day");
      if (!day || day === from) { return; }
      var nextSibling = item.nextSibling;
      showMessage("");
      if (undo) { undo.classList.add("d-none"); }
      place(item, day);
      item.classList.add("cb-saving");
      window.cardbase.postJson(moveUrl, {id: parseInt(item.getAttribute("data-id"), 10),
                                         version: parseInt(item.getAttribute("data-version"), 10),
                                         date: day.getAttribute("data-date")}).then(function (result) {
        item.classList.remove("cb-saving");
        if (!result.ok) { throw new Error(result.data.message || failedText); }
        item.setAttribute("data-version", String(result.data.version));
        if (status) { status.textContent = result.data.message || ""; }
        window.cardbase.offerUndo(undo, result.data);  // back to this month or week
      }).catch(function (err) {
        item.classList.remove("cb-saving");
        from.insertBefore(item, nextSibling && nextSibling.parentNode === from ? nextSibling : null);
        showMessage((err && err.message) || failedText);
      });
    }

    var days = Array.prototype.map.call(grid.querySelectorAll(".cb-cal-day"), function (day) {
      return {listen: day, highlight: day};
    });
    window.cardbase.dragToMove(grid, grid.querySelectorAll(".cb-cal-item[draggable=true]"), days, move);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
