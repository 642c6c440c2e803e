// cardbase boards: move a card to another column by drag and drop (HTML5 drag API) or
// with its "Move to" select (keyboard, touch, no drag). The move is an ordinary edit:
// POST {id, version, value} to the board's move URL; the server answers the new version
// and every column's count and total. On a conflict, a refused value or missing rights
// the card goes back where it was and the message shows above the board.
(function () {
  "use strict";

  function init() {
    var board = document.getElementById("cb-board");
    if (!board) { return; }
    var canMove = board.getAttribute("data-can-move") === "true";
    var moveUrl = board.getAttribute("data-move-url");
    var moreTemplate = board.getAttribute("data-more-template") || "+{n}";
    var failedText = board.getAttribute("data-failed") || "";
    var message = document.getElementById("cb-board-message");
    var status = document.getElementById("cb-board-status");

    function columnOf(el) { return el.closest(".cb-lane"); }
    function columnByKey(key) {
      var found = null;
      board.querySelectorAll(".cb-lane").forEach(function (c) {
        if (c.getAttribute("data-column") === key) { found = c; }
      });
      return found;
    }
    function showMessage(text) {
      message.textContent = text;
      message.classList.toggle("d-none", !text);
    }
    function announce(text) { if (status) { status.textContent = text; } }
    var undo = document.getElementById("cb-board-undo");
    // after a move: "<record> moved. [Undo]" -- the button posts the move's action to /actions/<id>/undo
    function refreshColumn(column) {
      var body = column.querySelector(".cb-lane-body");
      var cards = body.querySelectorAll(".cb-board-card").length;
      var empty = body.querySelector(".cb-empty-lane");
      if (empty) { empty.classList.toggle("d-none", cards > 0); }
      var count = parseInt(column.getAttribute("data-count") || "-1", 10);
      var more = body.querySelector(".cb-more");
      if (more && count >= 0) {
        var rest = count - cards;
        more.textContent = rest > 0 ? moreTemplate.replace("{n}", String(rest)) : "";
        more.classList.toggle("d-none", rest <= 0);
      }
    }

    function applyTotals(totals) {
      if (!totals) { return; }
      board.querySelectorAll(".cb-lane").forEach(function (column) {
        var figures = totals[column.getAttribute("data-column")];
        if (!figures) { figures = {count: 0, total: null}; }
        column.setAttribute("data-count", String(figures.count));
        var count = column.querySelector(".cb-lane-count");
        if (count) { count.textContent = figures.count.toLocaleString(document.documentElement.lang || undefined); }
        var total = column.querySelector(".cb-lane-total");
        if (total && figures.total !== null && figures.total !== undefined) { total.textContent = figures.total; }
        refreshColumn(column);
      });
    }

    function setCardValue(card, value, version) {
      card.setAttribute("data-value", value);
      if (version !== undefined && version !== null) {
        card.setAttribute("data-version", String(version));
        var input = card.querySelector("input[name=version]");
        if (input) { input.value = String(version); }
      }
      var select = card.querySelector("select[name=value]");
      if (select) { select.value = value; }
    }

    function place(card, column) {
      var body = column.querySelector(".cb-lane-body");
      var first = body.querySelector(".cb-board-card");
      body.insertBefore(card, first || body.firstChild);
    }

    function move(card, target) {
      var source = columnOf(card);
      var from = card.getAttribute("data-value");
      var to = target.getAttribute("data-column");
      if (!target || source === target || from === to) { return; }
      var nextSibling = card.nextSibling;
      showMessage("");
      if (undo) { undo.classList.add("d-none"); }
      place(card, target);
      setCardValue(card, to);
      card.classList.add("cb-saving");
      refreshColumn(source);
      refreshColumn(target);
      window.cardbase.postJson(moveUrl, {id: parseInt(card.getAttribute("data-id"), 10),
                                         version: parseInt(card.getAttribute("data-version"), 10),
                                         value: to === "" ? null : to}).then(function (result) {
        card.classList.remove("cb-saving");
        if (!result.ok) { throw new Error(result.data.message || failedText); }
        setCardValue(card, result.data.value, result.data.version);
        applyTotals(result.data.totals);
        announce(result.data.message || "");
        window.cardbase.offerUndo(undo, result.data, result.data.undo_next);
      }).catch(function (err) {
        card.classList.remove("cb-saving");
        source.querySelector(".cb-lane-body").insertBefore(card, nextSibling && nextSibling.parentNode ? nextSibling : null);
        setCardValue(card, from);
        refreshColumn(source);
        refreshColumn(target);
        showMessage((err && err.message) || failedText);
        card.focus();
      });
    }

    if (!canMove) { return; }

    var cards = board.querySelectorAll(".cb-board-card");
    cards.forEach(function (card) {
      var select = card.querySelector("select[name=value]");
      if (select) {
        select.addEventListener("change", function () {
          var target = columnByKey(select.value);
          if (target) { move(card, target); }
        });
      }
    });
    var lanes = Array.prototype.map.call(board.querySelectorAll(".cb-lane-body[data-drop]"), function (zone) {
      return {listen: columnOf(zone), highlight: zone};
    });
    window.cardbase.dragToMove(board, cards, lanes, move, "cb-dragging");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
