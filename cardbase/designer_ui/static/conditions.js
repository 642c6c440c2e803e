// cardbase configurator: the condition builder (field rules, a table's default filter).
// Each <div data-cb-condition> holds a <textarea> with the condition as JSON (the form
// field, usable without JavaScript); this script puts a small builder above it -- rows of
// field, operator and value joined by "and" or "or", and groups of them nested inside (an
// "any of" inside an "all of" ...) -- and keeps the two in step.
// Fields, operator words and texts come from <script type="application/json"> blocks:
// #cb-condition-fields-<name> (or #cb-condition-fields), #cb-condition-ops, #cb-condition-texts.
(function () {
  "use strict";
  var NO_OPERAND = ["is_empty", "is_not_empty"];
  var LISTS = ["in", "not_in"];
  var counter = 0;

  function readJson(id, fallback) {
    var el = document.getElementById(id);
    if (!el) { return fallback; }
    try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
  }

  var el = window.cardbase.el;  // cardbase.js, loaded on every page

  function option(value, label, selected) {
    var o = el("option", {value: value}, label);
    if (selected) { o.selected = true; }
    return o;
  }

  var MAX_DEPTH = 10;  // the filter language's own limit (docs/filters.md)

  // A tree the builder can show: one leaf, or {"and"|"or": [leaves and such groups]}, as
  // the group {join, rows} whose rows are leaves or groups again. Else null (a "not").
  function toGroup(tree, depth) {
    if (tree.not !== undefined && Object.keys(tree).length === 1 && depth <= MAX_DEPTH) {
      // "none of": not (a or b) holds a and b; any other negated condition or group is its one row
      var inner = tree.not;
      if (inner && typeof inner === "object" && inner.field !== undefined) { return {join: "not", rows: [inner]}; }
      var negated = inner && typeof inner === "object" ? toGroup(inner, depth + 1) : null;
      if (!negated) { return null; }
      return {join: "not", rows: negated.join === "or" ? negated.rows : [negated]};
    }
    var join = tree.and ? "and" : (tree.or ? "or" : null);
    if (!join || Object.keys(tree).length !== 1 || !Array.isArray(tree[join]) || depth > MAX_DEPTH) { return null; }
    var rows = [];
    for (var i = 0; i < tree[join].length; i++) {
      var item = tree[join][i];
      if (!item || typeof item !== "object") { return null; }
      if (item.field !== undefined) { rows.push(item); continue; }
      var group = toGroup(item, depth + 1);
      if (!group) { return null; }
      rows.push(group);
    }
    return {join: join, rows: rows};
  }
  function flatten(tree) {
    if (!tree) { return {join: "and", rows: []}; }
    if (tree.field !== undefined) { return {join: "and", rows: [tree]}; }
    var group = toGroup(tree, 1);
    return group && group.join === "not" ? {join: "and", rows: [group]} : group;  // the outer group is all/any
  }
  function isGroup(row) { return Array.isArray(row.rows); }
  // the filter language's tree of a group: a group of one item is that item, an empty one nothing
  function treeOf(group) {
    var items = [];
    group.rows.forEach(function (r) {
      if (isGroup(r)) { var sub = treeOf(r); if (sub) { items.push(sub); } } else if (r.field) { items.push(r); }
    });
    if (items.length === 0) { return null; }
    if (group.join === "not") { return {not: items.length === 1 ? items[0] : {or: items}}; }
    if (items.length === 1) { return items[0]; }
    var tree = {}; tree[group.join] = items;
    return tree;
  }

  function Builder(root, fields, ops, texts) {
    this.root = root;
    this.fields = fields;
    this.ops = ops;
    this.texts = texts;
    this.textarea = root.querySelector("textarea");
    this.id = "cbc" + (++counter);
    this.ui = el("div", {"class": "cb-condition-builder border rounded p-2 mb-2"});
    var jsonLabel = root.querySelector("label[for='" + this.textarea.id + "']");
    root.insertBefore(this.ui, jsonLabel || this.textarea);
    // with the builder at hand, the JSON (still the form field) folds away
    this.details = el("details", {"class": "cb-condition-raw small"});
    this.details.appendChild(el("summary", {}, texts.json));
    root.insertBefore(this.details, jsonLabel || this.textarea);
    if (jsonLabel) { this.details.appendChild(jsonLabel); }
    this.details.appendChild(this.textarea);
    var self = this;
    this.textarea.addEventListener("change", function () { self.load(); });
    this.load();
  }

  Builder.prototype.field = function (path) {
    for (var i = 0; i < this.fields.length; i++) {
      if (this.fields[i].path === path) { return this.fields[i]; }
    }
    return null;
  };

  Builder.prototype.load = function () {
    var text = this.textarea.value.trim(), tree = null;
    this.state = null;
    if (text) {
      try { tree = JSON.parse(text); } catch (e) { tree = undefined; }
    }
    if (tree !== undefined) { this.state = flatten(tree); }
    this.render();
  };

  Builder.prototype.save = function () {
    var tree = treeOf(this.state);
    this.textarea.value = tree ? JSON.stringify(tree, null, 1) : "";
    this.textarea.dispatchEvent(new Event("input", {bubbles: true}));
  };

  Builder.prototype.newRow = function () {
    var first = this.fields[0];
    return first ? {field: first.path, op: first.operators[0], value: null} : null;
  };

  // after a re-render, focus the control with this id (the keyboard stays where it was)
  Builder.prototype.refocus = function (id) {
    var again = document.getElementById(id);
    if (again) { again.focus(); }
  };

  Builder.prototype.render = function () {
    var t = this.texts;
    this.ui.textContent = "";
    if (!this.state) {
      this.details.open = true;
      this.ui.appendChild(el("p", {"class": "text-body-secondary small mb-0 cb-condition-complex"}, t.complex));
      return;
    }
    if (this.state.rows.length === 0) {
      this.ui.appendChild(el("p", {"class": "text-body-secondary small mb-2 cb-condition-none"}, t.none));
    }
    this.renderGroup(this.ui, this.state, this.id, null);
  };

  // One group: its "all / any" select, its conditions and groups, its buttons. The outer
  // group (parent null) shows the select only for two or more rows and cannot be removed.
  Builder.prototype.renderGroup = function (box, group, base, parent) {
    var self = this, t = this.texts;
    var nested = parent !== null;
    if (nested || group.rows.length > 1) {
      var wrap = el("div", {"class": "d-flex align-items-center gap-2 mb-2"});
      var joinId = base + "-join";
      wrap.appendChild(el("label", {"for": joinId, "class": "form-label mb-0 small"}, nested ? t.group_match : t.match));
      var join = el("select", {id: joinId, "class": "form-select form-select-sm w-auto cb-condition-join"});
      join.appendChild(option("and", t.all, group.join === "and"));
      join.appendChild(option("or", t.any, group.join === "or"));
      if (nested) { join.appendChild(option("not", t.none_of, group.join === "not")); }
      join.addEventListener("change", function () { group.join = join.value; self.save(); });
      wrap.appendChild(join);
      if (nested) {
        var drop = el("button", {type: "button", "class": "btn btn-sm btn-outline-danger ms-auto cb-condition-remove-group"},
                      t.remove_group);
        drop.addEventListener("click", function () {
          parent.rows.splice(parent.rows.indexOf(group), 1);
          self.save(); self.render();
          self.refocus(self.id + "-add");
        });
        wrap.appendChild(drop);
      }
      box.appendChild(wrap);
    }
    group.rows.forEach(function (row, index) {
      var rowBase = base + "-" + index;
      if (isGroup(row)) {
        var sub = el("div", {"class": "border rounded p-2 mb-2 cb-condition-group", role: "group", "aria-label": t.group});
        self.renderGroup(sub, row, rowBase, group);
        box.appendChild(sub);
      } else {
        box.appendChild(self.renderRow(row, group, index, rowBase));
      }
    });
    var buttons = el("div", {"class": "d-flex flex-wrap gap-2"});
    var add = el("button", {type: "button", id: base + "-add", "class": "btn btn-sm btn-outline-secondary cb-condition-add"}, t.add);
    add.addEventListener("click", function () {
      var row = self.newRow();
      if (!row) { return; }
      group.rows.push(row);
      self.save(); self.render();
      self.refocus(base + "-" + (group.rows.length - 1) + "-field");
    });
    var addGroup = el("button", {type: "button", id: base + "-add-group",
                                 "class": "btn btn-sm btn-outline-secondary cb-condition-add-group"}, t.add_group);
    addGroup.addEventListener("click", function () {
      var row = self.newRow();
      if (!row) { return; }
      group.rows.push({join: "and", rows: [row]});
      self.save(); self.render();
      self.refocus(base + "-" + (group.rows.length - 1) + "-join");
    });
    buttons.appendChild(add);
    buttons.appendChild(addGroup);
    box.appendChild(buttons);
  };

  Builder.prototype.renderRow = function (row, group, index, base) {
    var self = this, t = this.texts;
    var line = el("div", {"class": "row g-1 align-items-center mb-1 cb-condition-row"});
    var f = this.field(row.field);
    // the field
    var fieldSel = el("select", {id: base + "-field", "class": "form-select form-select-sm cb-condition-field",
      "aria-label": t.field});
    if (!f) { fieldSel.appendChild(option(row.field, row.field + " (?)", true)); }
    this.fields.forEach(function (candidate) {
      fieldSel.appendChild(option(candidate.path, candidate.label, candidate.path === row.field));
    });
    fieldSel.addEventListener("change", function () {
      var nf = self.field(fieldSel.value);
      row.field = fieldSel.value;
      if (nf && nf.operators.indexOf(row.op) < 0) { row.op = nf.operators[0]; }
      row.value = null;
      self.save(); self.render();
      var again = document.getElementById(base + "-field");
      if (again) { again.focus(); }
    });
    // the operator
    var opSel = el("select", {id: base + "-op", "class": "form-select form-select-sm cb-condition-op",
      "aria-label": t.operator});
    ((f && f.operators) || [row.op]).forEach(function (op) {
      opSel.appendChild(option(op, self.ops[op] || op, op === row.op));
    });
    opSel.addEventListener("change", function () {
      var wasList = LISTS.indexOf(row.op) >= 0 || row.op === "between";
      row.op = opSel.value;
      var isList = LISTS.indexOf(row.op) >= 0 || row.op === "between";
      if (NO_OPERAND.indexOf(row.op) >= 0) { delete row.value; } else if (wasList !== isList) { row.value = null; }
      self.save(); self.render();
      var again = document.getElementById(base + "-op");
      if (again) { again.focus(); }
    });
    var col1 = el("div", {"class": "col-12 col-md-4"}); col1.appendChild(fieldSel);
    var col2 = el("div", {"class": "col-12 col-md-3"}); col2.appendChild(opSel);
    var col3 = el("div", {"class": "col-10 col-md-4"});
    if (NO_OPERAND.indexOf(row.op) < 0) { col3.appendChild(this.valueInput(row, f, base)); }
    var col4 = el("div", {"class": "col-2 col-md-1 text-end"});
    var remove = el("button", {type: "button", "class": "btn btn-sm btn-outline-danger cb-condition-remove",
      "aria-label": t.remove, title: t.remove}, "×");
    remove.addEventListener("click", function () {
      group.rows.splice(index, 1);
      self.save(); self.render();
    });
    col4.appendChild(remove);
    [col1, col2, col3, col4].forEach(function (c) { line.appendChild(c); });
    return line;
  };

  function shown(value) {
    if (value === null || value === undefined) { return ""; }
    if (Array.isArray(value)) { return value.join(", "); }
    return String(value);
  }

  Builder.prototype.valueInput = function (row, f, base) {
    var self = this, t = this.texts, type = f ? f.type : "string", input;
    var id = base + "-value";
    if (f && f.choices && (row.op === "eq" || row.op === "ne" || row.op === "contains" || row.op === "not_contains" ||
                           LISTS.indexOf(row.op) >= 0)) {
      var many = LISTS.indexOf(row.op) >= 0;
      input = el("select", {id: id, "class": "form-select form-select-sm cb-condition-value", "aria-label": t.value});
      if (many) { input.multiple = true; input.size = Math.min(4, f.choices.length); }
      var chosen = many ? (Array.isArray(row.value) ? row.value : []) : [row.value];
      if (!many) { input.appendChild(option("", "—", row.value === null || row.value === undefined)); }
      f.choices.forEach(function (c) {
        input.appendChild(option(c.value, c.label, chosen.indexOf(c.value) >= 0));
      });
      input.addEventListener("change", function () {
        if (many) {
          row.value = Array.prototype.filter.call(input.options, function (o) { return o.selected; })
            .map(function (o) { return o.value; });
        } else {
          row.value = input.value === "" ? null : input.value;
        }
        self.save();
      });
      return input;
    }
    if (type === "boolean") {
      input = el("select", {id: id, "class": "form-select form-select-sm cb-condition-value", "aria-label": t.value});
      input.appendChild(option("true", t.yes, row.value === true));
      input.appendChild(option("false", t.no, row.value === false));
      if (row.value !== true && row.value !== false) { row.value = true; this.save(); }
      input.addEventListener("change", function () { row.value = input.value === "true"; self.save(); });
      return input;
    }
    var list = LISTS.indexOf(row.op) >= 0 || row.op === "between";
    input = el("input", {id: id, type: "text", "class": "form-control form-control-sm cb-condition-value",
      "aria-label": list ? t.value + " (" + t.list_hint + ")" : t.value});
    if (list) { input.placeholder = t.list_hint; }
    input.value = shown(row.value);
    input.addEventListener("input", function () {
      if (list) {
        row.value = input.value.split(",").map(function (s) { return s.trim(); })
          .filter(function (s) { return s !== ""; });
      } else {
        row.value = input.value === "" ? null : input.value;
      }
      self.save();
    });
    return input;
  };

  function init(root) {
    var ops = readJson("cb-condition-ops", {});
    var texts = readJson("cb-condition-texts", {});
    root.querySelectorAll("[data-cb-condition]").forEach(function (box) {
      if (box.cbBuilder) { return; }
      var fields = readJson(box.getAttribute("data-fields") || "cb-condition-fields", []);
      box.cbBuilder = new Builder(box, fields, ops, texts);
    });
  }

  window.cardbase = window.cardbase || {};
  window.cardbase.conditions = {init: init, flatten: flatten};
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
