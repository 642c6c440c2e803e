// cardbase: small helpers every page uses. No inline scripts anywhere (the CSP forbids
// them): pages pass data through data-* attributes and <script type="application/json">.
(function () {
  "use strict";
  // Choice badges with a #rrggbb colour: the colour comes from data-color.
  function paintColours(root) {
    root.querySelectorAll("[data-color]").forEach(function (el) {
      var c = el.getAttribute("data-color");
      if (/^#[0-9a-fA-F]{6}$/.test(c)) {
        el.style.backgroundColor = c;
        var r = parseInt(c.substr(1, 2), 16), g = parseInt(c.substr(3, 2), 16), b = parseInt(c.substr(5, 2), 16);
        el.style.color = (r * 299 + g * 587 + b * 114) / 1000 > 140 ? "#000" : "#fff";
      }
    });
  }
  // <select data-autosubmit> submits its form when changed (the language switch).
  function autosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }
  // A new element with attributes ("class" sets className) and text (never HTML).
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  window.cardbase = window.cardbase || {};
  window.cardbase.paintColours = paintColours;
  window.cardbase.el = el;
  // The CSRF token for fetch() calls: <meta name="csrf-token"> is not used; forms carry it.
  window.cardbase.csrfToken = function () {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  };
  // POST a JSON body with the form's CSRF token; resolves to {ok, data} (data {} when the
  // answer is not JSON), so a page shows the server's message whatever went wrong.
  window.cardbase.postJson = function (url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": window.cardbase.csrfToken()},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return {ok: response.ok, data: data};
      });
    });
  };
  // The Undo panel after a move saved by fetch (the board, the calendar): shows the
  // server's message and points its form at data.undo_url, coming back to ``next`` (default:
  // this page as it is, filters and month included); hidden when there is nothing to undo.
  window.cardbase.offerUndo = function (panel, data, next) {
    if (!panel) { return; }
    if (!data.undo_url) { panel.classList.add("d-none"); return; }
    panel.querySelector(".cb-undo-text").textContent = data.message || "";
    var form = panel.querySelector("form");
    form.setAttribute("action", data.undo_url);
    form.querySelector("input[name=next]").value = next || window.location.pathname + window.location.search;
    panel.classList.remove("d-none");
  };
  // Moving records by dragging (the boards' lanes, the calendar's days), wired alike on every
  // page: an item's drag carries its data-id; while one is dragged over a target, the
  // target's highlight element gets "cb-drop-over"; a drop calls onDrop(item, target).
  // targets: [{listen, highlight}] (listen: the element taking the drop events).
  window.cardbase.dragToMove = function (container, items, targets, onDrop, draggingClass) {
    var dragged = null;
    items.forEach(function (item) {
      item.addEventListener("dragstart", function (event) {
        dragged = item;
        if (draggingClass) { item.classList.add(draggingClass); }
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.getAttribute("data-id"));
      });
      item.addEventListener("dragend", function () {
        if (draggingClass) { item.classList.remove(draggingClass); }
        container.querySelectorAll(".cb-drop-over").forEach(function (el) { el.classList.remove("cb-drop-over"); });
        dragged = null;
      });
    });
    targets.forEach(function (target) {
      target.listen.addEventListener("dragover", function (event) {
        if (!dragged) { return; }
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        target.highlight.classList.add("cb-drop-over");
      });
      target.listen.addEventListener("dragleave", function (event) {
        if (!target.listen.contains(event.relatedTarget)) { target.highlight.classList.remove("cb-drop-over"); }
      });
      target.listen.addEventListener("drop", function (event) {
        event.preventDefault();
        target.highlight.classList.remove("cb-drop-over");
        if (dragged) { onDrop(dragged, target.listen); }
      });
    });
  };
  document.addEventListener("DOMContentLoaded", function () {
    paintColours(document);
    autosubmit(document);
  });
})();
