// The configurator's forms: API names proposed from labels, the options fieldset of the
// chosen field type, the choices editor, the lookup and rollup menus, field reordering by
// drag and drop (the arrow buttons work without JavaScript). No inline scripts (CSP).
(function () {
  "use strict";

  // "Contact person" -> "contact_person" (schema_engine/naming.py propose_api_name)
  function proposeApiName(label, fallback) {
    var text = (label || "").normalize("NFKD").replace(/ß/g, "ss").replace(/[\u0300-\u036f]/g, "");
    text = text.replace(/[^a-zA-Z0-9]+/g, "_").replace(/^_+|_+$/g, "").toLowerCase();
    if (!text || !/^[a-z]/.test(text)) { text = (fallback + "_" + text).replace(/_+$/, ""); }
    return text.substring(0, 63).replace(/_+$/, "") || fallback;
  }

  function apiNames(root) {
    root.querySelectorAll("[data-api-source]").forEach(function (source) {
      var target = document.getElementById(source.getAttribute("data-api-source"));
      if (!target) { return; }
      var touched = target.value !== "" && target.value !== proposeApiName(source.value, "item");
      target.addEventListener("input", function () { touched = target.value !== ""; });
      source.addEventListener("input", function () {
        if (!touched) { target.value = source.value.trim() ? proposeApiName(source.value, "item") : ""; }
      });
    });
  }

  function typeOptions(root) {
    var select = root.querySelector("[data-type-select]");
    if (!select) { return; }
    function show() {
      root.querySelectorAll("fieldset.cb-type-options").forEach(function (fs) {
        var on = fs.getAttribute("data-types").split(" ").indexOf(select.value) >= 0;
        fs.hidden = !on;
        fs.disabled = !on;
      });
      document.dispatchEvent(new CustomEvent("cardbase:field-type", { detail: select.value }));
    }
    select.addEventListener("change", show);
    show();
  }

  // ---- choices editor ----
  var choiceSeq = 1000;
  function paintChoice(sel) {
    sel.className = sel.className.replace(/\bcb-color-\S+/g, "").trim();
    if (sel.value && sel.value.charAt(0) !== "#") { sel.classList.add("cb-color-" + sel.value); }
  }
  function relabel(row) {
    row.querySelectorAll("label[data-for]").forEach(function (label) {
      var kind = label.getAttribute("data-for");
      var input = row.querySelector("[name=choice_" + kind + "]");
      var id = "choice-" + kind + "-n" + (choiceSeq++);
      input.id = id;
      label.setAttribute("for", id);
    });
  }
  function choices(root) {
    var body = root.querySelector("#cb-choice-rows");
    var template = document.getElementById("cb-choice-template");
    var add = root.querySelector("#cb-add-choice");
    if (!body || !template || !add) { return; }
    body.querySelectorAll(".cb-choice-color").forEach(paintChoice);
    add.addEventListener("click", function () {
      var row = template.content.firstElementChild.cloneNode(true);
      relabel(row);
      body.appendChild(row);
      row.querySelector("input").focus();
    });
    body.addEventListener("change", function (ev) {
      if (ev.target.classList.contains("cb-choice-color")) { paintChoice(ev.target); }
    });
    body.addEventListener("input", function (ev) {
      // typing a label fills an empty value with the same text
      if (ev.target.name === "choice_label") {
        var value = ev.target.closest("tr").querySelector("[name=choice_value]");
        if (!value.dataset.touched) { value.value = ev.target.value.trim(); }
      } else if (ev.target.name === "choice_value") {
        ev.target.dataset.touched = ev.target.value ? "1" : "";
      }
    });
    body.addEventListener("click", function (ev) {
      var button = ev.target.closest("button");
      if (!button) { return; }
      var row = button.closest("tr");
      if (button.classList.contains("cb-choice-remove")) {
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        if (next) { next.querySelector("input").focus(); } else { add.focus(); }
      } else if (button.classList.contains("cb-choice-up") && row.previousElementSibling) {
        body.insertBefore(row, row.previousElementSibling);
        button.focus();
      } else if (button.classList.contains("cb-choice-down") && row.nextElementSibling) {
        body.insertBefore(row.nextElementSibling, row);
        button.focus();
      }
    });
    body.querySelectorAll("[name=choice_value]").forEach(function (el) { if (el.value) { el.dataset.touched = "1"; } });
  }

  // ---- dependent menus: options carry data-group (the object they belong to) ----
  function narrow(select, group) {
    var keep = false;
    Array.prototype.forEach.call(select.options, function (opt) {
      var g = opt.getAttribute("data-group");
      var on = !g || !group || g === group;
      opt.hidden = !on;
      opt.disabled = !on;
      if (on && opt.selected) { keep = true; }
    });
    if (!keep) { select.value = ""; }
  }
  function menus(root) {
    var link = root.querySelector("[data-lookup-link]"), field = root.querySelector("[data-lookup-field]");
    if (link && field) {
      var lookup = function () {
        var opt = link.options[link.selectedIndex];
        narrow(field, opt ? opt.getAttribute("data-group") : "");
      };
      link.addEventListener("change", lookup);
      lookup();
    }
    var child = root.querySelector("[data-rollup-child]");
    if (child) {
      var rollup = function () {
        narrow(root.querySelector("[data-rollup-link]"), child.value);
        narrow(root.querySelector("[data-rollup-field]"), child.value);
      };
      child.addEventListener("change", rollup);
      rollup();
    }
  }

  // ---- field order: drag a row, then the order is saved (buttons work without JS) ----
  function sortable(root) {
    var body = root.querySelector(".cb-sortable");
    if (!body) { return; }
    var dragged = null;
    body.addEventListener("dragstart", function (ev) {
      dragged = ev.target.closest("tr");
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", dragged.getAttribute("data-field"));
      dragged.classList.add("cb-dragging");
    });
    body.addEventListener("dragover", function (ev) {
      if (!dragged) { return; }
      ev.preventDefault();
      var over = ev.target.closest("tr");
      if (!over || over === dragged) { return; }
      var rect = over.getBoundingClientRect();
      body.insertBefore(dragged, ev.clientY > rect.top + rect.height / 2 ? over.nextSibling : over);
    });
    body.addEventListener("drop", function (ev) {
      ev.preventDefault();
      if (!dragged) { return; }
      dragged.classList.remove("cb-dragging");
      dragged = null;
      body.closest("form").submit();
    });
    body.addEventListener("dragend", function () {
      if (dragged) { dragged.classList.remove("cb-dragging"); dragged = null; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    apiNames(document);
    typeOptions(document);
    choices(document);
    menus(document);
    sortable(document);
    var summary = document.getElementById("cb-type-preview") || document.getElementById("cb-form-errors");
    if (summary) { summary.focus(); }
  });
  window.cardbase = window.cardbase || {};
  window.cardbase.proposeApiName = proposeApiName;
})();
