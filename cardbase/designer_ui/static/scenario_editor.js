// cardbase configurator: the scenario editor. Without JavaScript the page shows every
// input of the trigger and of each action row, and five action rows; the server reads only
// the inputs of the chosen type. This script shows only the inputs (and the help line) of
// the type chosen in each [data-cb-switch] block ([data-cb-for] lists the types an input
// belongs to), drops the empty action rows and adds rows with "+ Add action" from the
// <template>, each with a remove button. Rows are named a<i>_*; the server reads any i.
(function () {
  "use strict";
  var list = document.getElementById("cb-sc-actions");
  var template = document.getElementById("cb-sc-action-template");
  var add = document.getElementById("cb-sc-add");

  function show(block) {
    var chosen = block.querySelector("[data-cb-switch-by]").value;
    block.querySelectorAll("[data-cb-for]").forEach(function (item) {
      item.hidden = item.getAttribute("data-cb-for").split(" ").indexOf(chosen) < 0;
    });
  }

  function rows() { return list.querySelectorAll(".cb-sc-action"); }

  function renumber() {
    rows().forEach(function (row, n) { row.querySelector(".cb-sc-step-no").textContent = String(n + 1); });
  }

  function wire(block) {
    block.querySelector("[data-cb-switch-by]").addEventListener("change", function () { show(block); });
    var remove = block.querySelector(".cb-sc-remove");
    if (remove) {
      remove.hidden = false;
      remove.addEventListener("click", function () {
        var next = block.nextElementSibling;
        block.remove();
        renumber();
        var target = next && next.classList.contains("cb-sc-action") ? next.querySelector("select") : add;
        target.focus();
      });
    }
    show(block);
  }

  function nextIndex() {
    var top = -1;
    rows().forEach(function (row) {
      var n = parseInt(row.id.replace("cb-sc-action-", ""), 10);
      if (n > top) { top = n; }
    });
    return top + 1;
  }

  function addRow() {
    var i = String(nextIndex());
    var html = template.innerHTML.split("__i__").join(i);
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.querySelector(".cb-sc-action");
    list.insertBefore(row, add);
    wire(row);
    renumber();
    return row;
  }

  document.querySelectorAll("[data-cb-switch]").forEach(function (block) {
    if (!block.closest("template")) { wire(block); }
  });
  if (!list || !template || !add) { return; }
  rows().forEach(function (row) {  // the server's spare empty rows: "+ Add action" instead
    if (!row.querySelector("[data-cb-switch-by]").value) { row.remove(); }
  });
  if (!rows().length) { addRow(); }
  renumber();
  add.hidden = false;
  add.addEventListener("click", function () { addRow().querySelector("select").focus(); });
}());
