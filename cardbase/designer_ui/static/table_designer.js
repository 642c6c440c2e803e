// cardbase configurator: the table designer. Columns (order, width) and sort levels live
// in one object written to the hidden input #cb-table-definition; the filter is the
// condition builder's textarea (conditions.js) and the page size a plain input.
(function () {
  "use strict";
  var data, texts, state, hidden, colList, avail, sortBox, statusBox, findBox, dragIndex = null;

  var el = window.cardbase.el;  // cardbase.js, loaded on every page
  function safe(key) { return String(key).replace(/[^a-zA-Z0-9_-]/g, "_"); }
  function info(path) {
    for (var i = 0; i < data.available.length; i++) { if (data.available[i].path === path) { return data.available[i]; } }
    return null;
  }
  function labelOf(path) { var f = info(path); return f ? f.label : path; }
  function button(cls, label, text, handler, id) {
    var b = el("button", {type: "button", "class": "btn btn-sm " + cls, "aria-label": label, title: label}, text);
    if (id) { b.id = id; }
    b.addEventListener("click", handler);
    return b;
  }
  function save() { hidden.value = JSON.stringify(state); }
  function changed(focusId, message) {
    save();
    render();
    if (focusId && document.getElementById(focusId)) { document.getElementById(focusId).focus(); }
    if (message) { statusBox.textContent = message; }
  }
  function move(from, to) {
    if (to < 0 || to >= state.columns.length || from === to) { return; }
    state.columns.splice(to, 0, state.columns.splice(from, 1)[0]);
  }

  function render() {
    colList.textContent = "";
    if (!state.columns.length) { colList.appendChild(el("li", {"class": "small text-body-secondary"}, texts.no_columns)); }
    state.columns.forEach(function (col, i) {
      var id = "cb-col-" + safe(col.field), title = labelOf(col.field);
      var li = el("li", {"class": "cb-table-column border rounded p-2 mb-1 d-flex flex-wrap align-items-center gap-2 bg-body",
        draggable: "true", "data-field": col.field, id: id});
      li.appendChild(el("span", {"class": "cb-grip text-body-secondary", "aria-hidden": "true"}, "⠿"));
      var name = el("span", {"class": "me-auto"}, title + " ");
      name.appendChild(el("code", {"class": "small"}, col.field));
      li.appendChild(name);
      var wid = el("input", {type: "number", "class": "form-control form-control-sm cb-col-width", id: id + "-width",
        min: String(data.min_width), max: String(data.max_width), placeholder: texts.width_auto,
        "aria-label": texts.width + ": " + title});
      wid.value = col.width || "";
      wid.addEventListener("input", function () {
        var n = parseInt(wid.value, 10);
        if (isNaN(n)) { delete col.width; } else { col.width = n; }
        save();
      });
      li.appendChild(wid);
      li.appendChild(button("btn-outline-secondary cb-move-up", texts.move_up + ": " + title, "↑", function () {
        move(i, i - 1); changed(id + "-up", texts.moved);
      }, id + "-up"));
      li.appendChild(button("btn-outline-secondary cb-move-down", texts.move_down + ": " + title, "↓", function () {
        move(i, i + 1); changed(id + "-down", texts.moved);
      }, id + "-down"));
      li.appendChild(button("btn-outline-danger cb-remove", texts.remove + ": " + title, "×", function () {
        state.columns.splice(i, 1); changed("cb-table-available-filter", texts.removed);
      }, id + "-remove"));
      li.addEventListener("dragstart", function (ev) {
        dragIndex = i; ev.dataTransfer.effectAllowed = "move"; ev.dataTransfer.setData("text/plain", col.field);
      });
      li.addEventListener("dragover", function (ev) { ev.preventDefault(); });
      li.addEventListener("drop", function (ev) {
        ev.preventDefault();
        var path = ev.dataTransfer.getData("text/plain");
        if (dragIndex !== null) { move(dragIndex, i); } else if (path && info(path)) { state.columns.splice(i, 0, {field: path}); }
        dragIndex = null;
        changed(null, texts.moved);
      });
      li.addEventListener("dragend", function () { dragIndex = null; });
      colList.appendChild(li);
    });
    renderAvailable();
    renderSort();
  }

  function renderAvailable() {
    avail.textContent = "";
    var used = {}, needle = (findBox.value || "").toLowerCase(), any = false, shown = 0;
    state.columns.forEach(function (c) { used[c.field] = true; });
    data.available.forEach(function (f) {
      if (used[f.path]) { return; }
      any = true;
      if (needle && f.label.toLowerCase().indexOf(needle) < 0 && f.path.indexOf(needle) < 0) { return; }
      shown += 1;
      var id = "cb-avail-" + safe(f.path);
      var li = el("li", {"class": "cb-palette-item border rounded p-1 mb-1 d-flex align-items-center gap-1 bg-body",
        draggable: "true", id: id, "data-field": f.path});
      li.appendChild(el("span", {"class": "me-auto small"}, f.label));
      li.appendChild(button("btn-outline-primary cb-add-column", texts.add + ": " + f.label, "+", function () {
        state.columns.push({field: f.path});
        changed("cb-col-" + safe(f.path) + "-up", texts.added);
      }, id + "-add"));
      li.addEventListener("dragstart", function (ev) { dragIndex = null; ev.dataTransfer.setData("text/plain", f.path); });
      avail.appendChild(li);
    });
    if (!any) { avail.appendChild(el("li", {"class": "small text-body-secondary"}, texts.all_placed)); }
    else if (!shown) { avail.appendChild(el("li", {"class": "small text-body-secondary"}, texts.no_match)); }
  }

  function renderSort() {
    sortBox.textContent = "";
    state.sort.forEach(function (level, i) {
      var row = el("div", {"class": "row g-2 align-items-center mb-1 cb-sort-level"});
      var fieldSel = el("select", {"class": "form-select form-select-sm cb-sort-field", id: "cb-sort-" + i + "-field",
        "aria-label": (i ? texts.then + " " : "") + texts.sort_field + " (" + (i + 1) + ")"});
      var known = false;
      data.available.forEach(function (f) {
        var o = el("option", {value: f.path}, f.label);
        if (f.path === level.field) { o.selected = true; known = true; }
        fieldSel.appendChild(o);
      });
      if (!known) { var o = el("option", {value: level.field}, level.field); o.selected = true; fieldSel.insertBefore(o, fieldSel.firstChild); }
      fieldSel.addEventListener("change", function () { level.field = fieldSel.value; save(); });
      var dir = el("select", {"class": "form-select form-select-sm cb-sort-direction", id: "cb-sort-" + i + "-dir",
        "aria-label": texts.direction + " (" + (i + 1) + ")"});
      [["asc", texts.asc], ["desc", texts.desc]].forEach(function (p) {
        var o = el("option", {value: p[0]}, p[1]);
        if ((p[0] === "desc") === !!level.desc) { o.selected = true; }
        dir.appendChild(o);
      });
      dir.addEventListener("change", function () { level.desc = dir.value === "desc"; save(); });
      var c1 = el("div", {"class": "col-7"}), c2 = el("div", {"class": "col-3"}), c3 = el("div", {"class": "col-2 text-end"});
      c1.appendChild(fieldSel); c2.appendChild(dir);
      c3.appendChild(button("btn-outline-danger", texts.remove_sort + " " + (i + 1), "×", function () {
        state.sort.splice(i, 1); changed("cb-add-sort", texts.removed);
      }, "cb-sort-" + i + "-remove"));
      row.appendChild(c1); row.appendChild(c2); row.appendChild(c3);
      sortBox.appendChild(row);
    });
    sortBox.appendChild(button("btn-outline-secondary mt-1", texts.add_sort, "+ " + texts.add_sort, function () {
      var first = state.columns[0] ? state.columns[0].field : (data.available[0] || {}).path;
      if (!first) { return; }
      state.sort.push({field: first, desc: false});
      changed("cb-sort-" + (state.sort.length - 1) + "-field", texts.added);
    }, "cb-add-sort"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("cb-table-data");
    if (!source) { return; }
    data = JSON.parse(source.textContent);
    texts = data.texts;
    hidden = document.getElementById("cb-table-definition");
    try { state = JSON.parse(hidden.value); } catch (e) { state = null; }
    if (!state || !Array.isArray(state.columns)) { state = {columns: data.columns, sort: data.sort}; }
    state.sort = state.sort || [];
    colList = document.getElementById("cb-table-columns");
    avail = document.getElementById("cb-table-available");
    sortBox = document.getElementById("cb-table-sort");
    statusBox = document.getElementById("cb-table-status");
    findBox = document.getElementById("cb-table-available-filter");
    findBox.addEventListener("input", renderAvailable);
    avail.addEventListener("dragover", function (ev) { ev.preventDefault(); });
    avail.addEventListener("drop", function (ev) {
      ev.preventDefault();
      if (dragIndex !== null) { state.columns.splice(dragIndex, 1); dragIndex = null; changed(null, texts.removed); }
    });
    colList.addEventListener("dragover", function (ev) { ev.preventDefault(); });
    colList.addEventListener("drop", function (ev) {
      if (ev.defaultPrevented) { return; }
      ev.preventDefault();
      var path = ev.dataTransfer.getData("text/plain");
      if (dragIndex === null && path && info(path)) { state.columns.push({field: path}); changed(null, texts.added); }
    });
    document.getElementById("cb-table-form").addEventListener("submit", save);
    save();
    render();
  });
})();
