// cardbase list view: clickable rows, the filter builder, the column chooser, exports
// with a progress indicator and the toolbar of ticked rows. Data comes from <script type="application/json"> blocks.
(function () {
  "use strict";

  function json(id, fallback) {
    var el = document.getElementById(id);
    if (!el) { return fallback; }
    try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
  }
  function make(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") { el.className = attrs[k]; } else { el.setAttribute(k, attrs[k]); }
    });
    if (text !== undefined && text !== null) { el.textContent = text; }
    return el;
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? values[k] : m; });
  }

  // ---- rows open their card --------------------------------------------------------------
  function clickableRows() {
    document.querySelectorAll("#cb-list-table tbody tr[data-href]").forEach(function (tr) {
      tr.classList.add("cb-row-link");
      tr.addEventListener("click", function (ev) {
        if (ev.target.closest("a, button, input, select, label")) { return; }
        if (window.getSelection && String(window.getSelection())) { return; } // selecting text
        window.location.href = tr.getAttribute("data-href");
      });
    });
  }

  // ---- the filter builder ---------------------------------------------------------------------
  var NO_VALUE = ["is_empty", "is_not_empty", "today", "this_week", "this_month", "overdue"];
  var LIST_OPS = ["in", "not_in", "has_any", "has_all", "has_none"];
  var DAYS_OPS = ["next_days", "last_days"];  // the operand is a number of days (docs/filters.md)
  // German screens: dates typed as 24.12.2026 (14:30), sent to the server as ISO
  var GERMAN_DATES = (document.documentElement.lang || "").slice(0, 2) === "de";
  function toGerman(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2}))?/.exec(iso);
    return m ? m[3] + "." + m[2] + "." + m[1] + (m[4] ? " " + m[4] : "") : iso;
  }
  function fromGerman(text) {
    var m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2}))?$/.exec(text);
    if (!m) { return text; }
    var pad = function (s) { return ("0" + s).slice(-2); };
    return m[3] + "-" + pad(m[2]) + "-" + pad(m[1]) + (m[4] ? "T" + pad(m[4]) + ":" + m[5] : "");
  }

  // The builder edits a tree of groups: the outer group (#cb-filter-match, #cb-filter-rows)
  // holds conditions (.cb-filter-row) and nested groups (.cb-filter-group: "all of" /
  // "any of" / "none of", each again holding conditions and groups), written as
  // {"and"|"or": [...]} and {"not": ...}.
  function FilterBuilder(form) {
    this.form = form;
    this.fields = json("cb-filter-fields", []);
    this.model = json("cb-filter-model", {match: "and", rows: []});
    this.texts = json("cb-filter-texts", {});
    var self = this;
    Object.keys(this.model.texts || {}).forEach(function (k) { self.texts[k] = self.model.texts[k]; });
    this.byPath = {};
    this.fields.forEach(function (f) { self.byPath[f.path] = f; });
    this.rows = document.getElementById("cb-filter-rows");
    this.match = document.getElementById("cb-filter-match");
    this.hidden = document.getElementById("cb-filter-value");
    this.advanced = document.getElementById("cb-filter-advanced");
    this.jsonBox = document.getElementById("cb-filter-json");
    if (this.model.rows === null) {
      this.advanced.classList.remove("d-none");
      this.isAdvanced = true;
    } else {
      this.fillGroup(this.rows, this.model.rows);
      if (!this.model.rows.length) { this.addRow(null, true); }
    }
    var addButton = document.getElementById("cb-filter-add");
    addButton.addEventListener("click", function () {
      var row = self.addRow(null);
      row.querySelector("select").focus();
    });
    var addGroup = document.getElementById("cb-filter-add-group");
    if (!addGroup && this.texts.add_group) {  // put beside "Add condition" by the builder itself
      addGroup = make("button", {type: "button", className: "btn btn-sm btn-outline-primary", id: "cb-filter-add-group"},
                      "+ " + this.texts.add_group);
      addButton.parentNode.insertBefore(addGroup, addButton.nextSibling);
    }
    if (addGroup) {
      addGroup.addEventListener("click", function () {
        self.addGroup(self.rows, null).querySelector("select").focus();
      });
    }
    document.getElementById("cb-filter-clear").addEventListener("click", function () {
      self.rows.textContent = "";
      self.isAdvanced = false;
      self.hidden.value = "";
      self.form.submit();
    });
    form.addEventListener("submit", function (ev) {
      if (!self.serialise()) { ev.preventDefault(); }
    });
  }

  FilterBuilder.prototype.fillGroup = function (container, items) {
    var self = this;
    (items || []).forEach(function (item) {
      if (item && Array.isArray(item.rows)) { self.addGroup(container, item); } else { self.addRow(item, false, container); }
    });
  };

  // A nested group: "all of" / "any of", its conditions and groups, and its own buttons.
  FilterBuilder.prototype.addGroup = function (container, model) {
    var self = this, t = this.texts;
    var group = make("div", {className: "cb-filter-group border rounded p-2 d-flex flex-column gap-2", role: "group",
                             "aria-label": t.group});
    var head = make("div", {className: "d-flex flex-wrap gap-2 align-items-center small cb-g-head"});
    var match = make("select", {className: "form-select form-select-sm w-auto cb-g-match", "aria-label": t.group_match});
    match.appendChild(make("option", {value: "and"}, t.all_of));
    match.appendChild(make("option", {value: "or"}, t.any_of));
    match.appendChild(make("option", {value: "not"}, t.none_of));
    match.value = model && (model.match === "or" || model.match === "not") ? model.match : "and";
    var rows = make("div", {className: "cb-g-rows d-flex flex-column gap-2 ps-2 border-start"});
    var addCond = make("button", {type: "button", className: "btn btn-sm btn-outline-primary cb-g-add"}, "+ " + t.add_condition);
    var addSub = make("button", {type: "button", className: "btn btn-sm btn-outline-primary cb-g-add-group"}, "+ " + t.add_group);
    var remove = make("button", {type: "button", className: "btn btn-sm btn-outline-secondary cb-g-remove ms-auto"}, t.remove_group);
    head.appendChild(match); head.appendChild(addCond); head.appendChild(addSub); head.appendChild(remove);
    group.appendChild(head); group.appendChild(rows);
    container.appendChild(group);
    addCond.addEventListener("click", function () { self.addRow(null, false, rows).querySelector("select").focus(); });
    addSub.addEventListener("click", function () { self.addGroup(rows, null).querySelector("select").focus(); });
    remove.addEventListener("click", function () {
      var next = group.nextElementSibling || group.previousElementSibling;
      group.remove();
      var target = next ? next.querySelector("select") : null;
      (target || document.getElementById("cb-filter-add")).focus();
    });
    if (model) { this.fillGroup(rows, model.rows); } else { this.addRow(null, false, rows); }
    return group;
  };

  FilterBuilder.prototype.fieldSelect = function (selected) {
    var select = make("select", {className: "form-select form-select-sm cb-f-field", "aria-label": this.texts.field});
    var groups = {};
    this.fields.forEach(function (f) {
      if (!groups[f.group]) {
        groups[f.group] = make("optgroup", {label: f.group});
        select.appendChild(groups[f.group]);
      }
      var opt = make("option", {value: f.path}, f.label);
      if (f.path === selected) { opt.selected = true; }
      groups[f.group].appendChild(opt);
    });
    return select;
  };

  FilterBuilder.prototype.addRow = function (leaf, pristine, container) {
    var self = this;
    var row = make("div", {className: "d-flex flex-wrap gap-2 align-items-start cb-filter-row"});
    if (pristine) { row.setAttribute("data-pristine", "1"); }
    var path = leaf && this.byPath[leaf.field] ? leaf.field : (this.fields[0] || {}).path;
    var fieldSel = this.fieldSelect(path);
    var opSel = make("select", {className: "form-select form-select-sm cb-f-op", "aria-label": this.texts.operator});
    var valueBox = make("div", {className: "cb-f-value d-flex gap-1 flex-grow-1"});
    var remove = make("button", {type: "button", className: "btn btn-sm btn-outline-secondary cb-f-remove",
                                 "aria-label": this.texts.remove, title: this.texts.remove}, "×");
    row.appendChild(fieldSel); row.appendChild(opSel); row.appendChild(valueBox); row.appendChild(remove);
    (container || this.rows).appendChild(row);
    function touched() { row.removeAttribute("data-pristine"); }
    function fillOps(op) {
      var entry = self.byPath[fieldSel.value];
      opSel.textContent = "";
      (entry ? entry.ops : []).forEach(function (o) {
        var opt = make("option", {value: o.op}, o.label);
        if (o.op === op) { opt.selected = true; }
        opSel.appendChild(opt);
      });
    }
    fieldSel.addEventListener("change", function () { touched(); fillOps(null); self.valueInput(row, null); });
    opSel.addEventListener("change", function () { touched(); self.valueInput(row, self.currentValue(row)); });
    valueBox.addEventListener("input", touched);
    valueBox.addEventListener("change", touched);
    remove.addEventListener("click", function () { row.remove(); });
    fillOps(leaf ? leaf.op : null);
    this.valueInput(row, leaf ? leaf.value : null);
    return row;
  };

  FilterBuilder.prototype.input = function (entry, value) {
    var t = this.texts, el;
    var kind = entry.input;
    if (kind === "boolean") {
      el = make("select", {className: "form-select form-select-sm"});
      el.appendChild(make("option", {value: "true"}, t.yes));
      el.appendChild(make("option", {value: "false"}, t.no));
      if (value === false || value === "false") { el.value = "false"; }
      return el;
    }
    if (kind === "choice") {
      el = make("select", {className: "form-select form-select-sm"});
      entry.choices.forEach(function (c) { el.appendChild(make("option", {value: c.value}, c.label)); });
      if (value !== null && value !== undefined) { el.value = String(value); }
      return el;
    }
    var type = {number: "number", date: "date", datetime: "datetime-local"}[kind] || "text";
    var german = GERMAN_DATES && (kind === "date" || kind === "datetime");
    if (german) { type = "text"; }  // the browser's picker would speak the browser's locale (mm/dd/yyyy)
    el = make("input", {className: "form-control form-control-sm", type: type, "aria-label": t.value});
    if (german) {
      el.setAttribute("placeholder", kind === "date" ? "TT.MM.JJJJ" : "TT.MM.JJJJ hh:mm");
      el.setAttribute("data-german-date", kind);
    }
    if (type === "number") { el.setAttribute("step", "any"); }
    if (kind === "link") { this.linkPicker(entry, el); }
    if (entry.me) { this.meOption(el); }
    if (value !== null && value !== undefined) {
      if (kind === "link") {
        var id = value.id || value, known = entry.names && entry.names[String(id)];
        el.value = value === "me" ? "me" : (known ? known + " #" : "#") + id;
      }
      else if (type === "datetime-local") { el.value = String(value).replace(" ", "T").substring(0, 16); }
      else if (german) { el.value = toGerman(String(value)); }
      else { el.value = String(value); }
    }
    return el;
  };

  FilterBuilder.prototype.linkPicker = function (entry, el) {
    el.setAttribute("placeholder", this.texts.search_records);
    if (!entry.links_url) { return; }
    var listId = "cb-dl-" + Math.random().toString(36).slice(2);
    var list = make("datalist", {id: listId});
    el.setAttribute("list", listId);
    el.addEventListener("focus", function () { if (!list.parentNode) { el.parentNode.appendChild(list); } });
    var timer = null;
    el.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = el.value.replace(/#\d+\s*$/, "").trim();
        fetch(entry.links_url + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.textContent = "";
            (items || []).forEach(function (it) { list.appendChild(make("option", {value: (it.display || "") + " #" + it.id})); });
          }).catch(function () { /* the picker is a convenience: typing an id still works */ });
      }, 200);
    });
  };

  // Several records (a multi-link's "has any of" …): the chosen ones as removable chips, a
  // picker that adds one per choice; a hidden .cb-f-list input carries their ids ("3, 7").
  FilterBuilder.prototype.linkList = function (entry, box, values) {
    var t = this.texts;
    var ids = make("input", {className: "cb-f-list", type: "hidden"});
    var chips = make("span", {className: "d-flex flex-wrap gap-1 align-items-center align-self-center cb-f-chips"});
    var picker = this.input(entry, null);
    picker.classList.add("cb-f-pick");
    picker.setAttribute("aria-label", t.add_record || t.value);
    function sync() {
      ids.value = Array.prototype.map.call(chips.children, function (c) { return c.getAttribute("data-id"); }).join(", ");
      box.dispatchEvent(new Event("change", {bubbles: true}));
    }
    function add(id, shown) {
      id = String(id);
      if (Array.prototype.some.call(chips.children, function (c) { return c.getAttribute("data-id") === id; })) { return; }
      var chip = make("button", {type: "button", className: "btn btn-sm btn-outline-secondary text-nowrap cb-f-chip", "data-id": id,
                                 title: t.remove, "aria-label": (t.remove || "×") + ": " + shown}, shown + " ×");
      chip.addEventListener("click", function () { chip.remove(); sync(); picker.focus(); });
      chips.appendChild(chip);
      sync();
    }
    function take() {
      var m = /^(.*?)\s*#(\d+)\s*$/.exec(picker.value.trim()) || /^()(\d+)$/.exec(picker.value.trim());
      if (!m) { return false; }
      add(m[2], m[1] || "#" + m[2]);
      picker.value = "";
      return true;
    }
    picker.addEventListener("change", take);
    picker.addEventListener("input", function (ev) {  // a choice from the list (not typing)
      if (!ev.inputType || ev.inputType === "insertReplacementText") { take(); }
    });
    picker.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && take()) { ev.preventDefault(); } });
    (values || []).forEach(function (v) {
      var id = v && v.id !== undefined ? v.id : v;
      add(id, v && v.display ? v.display : (entry.names && entry.names[String(id)]) || "#" + id);
    });
    box.classList.add("flex-wrap");
    box.appendChild(ids); box.appendChild(chips); box.appendChild(picker);
  };

  // user fields: "me" is whoever reads the list (a saved view "My open tasks" works for everyone)
  FilterBuilder.prototype.meOption = function (el) {
    var listId = "cb-dl-me-" + Math.random().toString(36).slice(2);
    var list = make("datalist", {id: listId});
    list.appendChild(make("option", {value: "me"}, this.texts.me));
    el.setAttribute("list", listId);
    el.setAttribute("placeholder", this.texts.me_hint);
    el.addEventListener("focus", function () { if (!list.parentNode) { el.parentNode.appendChild(list); } });
  };

  FilterBuilder.prototype.valueInput = function (row, value) {
    var entry = this.byPath[row.querySelector(".cb-f-field").value];
    var op = row.querySelector(".cb-f-op").value;
    var box = row.querySelector(".cb-f-value");
    box.textContent = "";
    if (!entry || NO_VALUE.indexOf(op) >= 0) { return; }
    if (DAYS_OPS.indexOf(op) >= 0) {
      var days = make("input", {className: "form-control form-control-sm cb-f-days", type: "number", min: "0",
                                max: "3660", step: "1", "aria-label": this.texts.days});
      days.value = value !== null && value !== undefined && !Array.isArray(value) ? String(value) : "7";
      box.appendChild(days);
      box.appendChild(make("span", {className: "align-self-center small"}, this.texts.days));
      return;
    }
    if (op === "between") {
      var pair = Array.isArray(value) ? value : [null, null];
      box.appendChild(this.input(entry, pair[0]));
      box.appendChild(make("span", {className: "align-self-center small"}, this.texts.and));
      box.appendChild(this.input(entry, pair[1]));
      return;
    }
    if (LIST_OPS.indexOf(op) >= 0 || (entry.multi && Array.isArray(value))) {
      if (entry.input === "choice") {
        var sel = this.input(entry, null);
        sel.multiple = true;
        sel.size = Math.min(5, entry.choices.length);
        var wanted = (Array.isArray(value) ? value : []).map(String);
        Array.prototype.forEach.call(sel.options, function (o) { o.selected = wanted.indexOf(o.value) >= 0; });
        box.appendChild(sel);
        return;
      }
      if (entry.input === "link") { this.linkList(entry, box, Array.isArray(value) ? value : []); return; }
      var text = make("input", {className: "form-control form-control-sm cb-f-list", type: "text",
                                placeholder: this.texts.list_hint, "aria-label": this.texts.value});
      if (Array.isArray(value)) { text.value = value.join(", "); }
      box.appendChild(text);
      return;
    }
    box.appendChild(this.input(entry, Array.isArray(value) ? value[0] : value));
  };

  function readOne(entry, el) {
    if (el.tagName === "SELECT" && el.multiple) {
      return Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
    }
    var v = el.value.trim();
    if (v === "") { return null; }
    if (entry.input === "boolean") { return v === "true"; }
    if (el.classList && el.classList.contains("cb-f-days")) { return Number(v); }
    if (el.getAttribute && el.getAttribute("data-german-date")) { return fromGerman(v); }
    if (entry.me && v.toLowerCase() === "me") { return "me"; }
    if (entry.input === "link") {
      var m = /#(\d+)\s*$/.exec(v) || /^(\d+)$/.exec(v);
      return m ? Number(m[1]) : v;
    }
    return v;
  }

  FilterBuilder.prototype.currentValue = function (row) {
    var entry = this.byPath[row.querySelector(".cb-f-field").value];
    var inputs = row.querySelectorAll(".cb-f-value input, .cb-f-value select");
    if (!entry || !inputs.length) { return null; }
    if (inputs[0].classList.contains("cb-f-list") && inputs[0].type === "hidden") {  // chosen records
      var chosen = inputs[0].value.split(",").map(function (s) { return s.trim(); }).filter(Boolean).map(Number);
      return chosen;
    }
    if (inputs.length === 2) { return [readOne(entry, inputs[0]), readOne(entry, inputs[1])]; }
    if (inputs[0].classList.contains("cb-f-list")) {
      return inputs[0].value.split(",").map(function (s) { return s.trim(); }).filter(Boolean).map(function (s) {
        return readOne(entry, {value: s, tagName: "INPUT"});
      });
    }
    return readOne(entry, inputs[0]);
  };

  FilterBuilder.prototype.serialise = function () {
    var self = this;
    if (this.isAdvanced) {
      var text = this.jsonBox.value.trim();
      if (text) {
        try { JSON.parse(text); } catch (e) {
          this.jsonBox.classList.add("is-invalid");
          this.jsonBox.setAttribute("title", this.texts.bad_json);
          return false;
        }
      }
      this.hidden.value = text;
      return true;
    }
    var state = {ok: true};
    var items = this.collect(this.rows, state);
    if (!state.ok) { return false; }
    var tree = items.length === 0 ? "" : items.length === 1 ? items[0] : {};
    if (items.length > 1) { tree[this.match.value === "or" ? "or" : "and"] = items; }
    this.hidden.value = tree === "" ? "" : JSON.stringify(tree);
    return true;
  };

  // The conditions and groups directly inside one group's container, in the filter language;
  // a group of one item is that item, an empty group nothing.
  FilterBuilder.prototype.collect = function (container, state) {
    var self = this, items = [];
    Array.prototype.forEach.call(container.children, function (child) {
      if (child.classList.contains("cb-filter-row")) {
        var leaf = self.readRow(child, state);
        if (leaf) { items.push(leaf); }
      } else if (child.classList.contains("cb-filter-group")) {
        var inner = self.collect(child.querySelector(".cb-g-rows"), state);
        var key = child.querySelector(".cb-g-match").value;
        if (key === "not") {  // none of them: not (a or b ...)
          if (inner.length) { items.push({not: inner.length === 1 ? inner[0] : {or: inner}}); }
        } else if (inner.length === 1) { items.push(inner[0]); }
        else if (inner.length) { var node = {}; node[key === "or" ? "or" : "and"] = inner; items.push(node); }
      }
    });
    return items;
  };

  FilterBuilder.prototype.readRow = function (row, state) {
    var path = row.querySelector(".cb-f-field").value;
    var op = row.querySelector(".cb-f-op").value;
    if (!path || !op) { return null; }
    var leaf = {field: path, op: op};
    if (NO_VALUE.indexOf(op) < 0) {
      var value = this.currentValue(row);
      var empty = value === null || (Array.isArray(value) && (!value.length || value.some(function (v) { return v === null; })));
      if (empty) {
        if (row.hasAttribute("data-pristine")) { return null; } // the untouched starter row
        row.querySelectorAll(".cb-f-value input, .cb-f-value select").forEach(function (el) { el.classList.add("is-invalid"); });
        state.ok = false;
        return null;
      }
      leaf.value = value;
    }
    return leaf;
  };

  // ---- column chooser -------------------------------------------------------------------------
  function columnChooser() {
    var list = document.getElementById("cb-column-list");
    if (!list) { return; }
    list.addEventListener("click", function (ev) {
      var btn = ev.target.closest("button");
      if (!btn) { return; }
      var li = btn.closest("li");
      if (btn.classList.contains("cb-col-up") && li.previousElementSibling) {
        list.insertBefore(li, li.previousElementSibling);
      } else if (btn.classList.contains("cb-col-down") && li.nextElementSibling) {
        list.insertBefore(li.nextElementSibling, li);
      }
      btn.focus();
    });
  }

  // ---- exports with progress -----------------------------------------------------------------
  function exports() {
    var box = document.getElementById("cb-export-status");
    if (!box || !window.fetch || !window.ReadableStream) { return; } // plain download links then
    var texts = json("cb-export-texts", {});
    var text = document.getElementById("cb-export-text");
    var bar = document.getElementById("cb-export-progress");
    var spinner = document.getElementById("cb-export-spinner");
    var table = document.getElementById("cb-list-table");
    var total = table && table.getAttribute("data-total") ? Number(table.getAttribute("data-total")) : 0;
    var busy = false;

    function show(message, percent, state) {
      box.classList.remove("d-none", "alert-info", "alert-success", "alert-danger");
      box.classList.add(state === "done" ? "alert-success" : state === "failed" ? "alert-danger" : "alert-info");
      box.setAttribute("data-state", state || "running");
      spinner.classList.toggle("d-none", state === "done" || state === "failed");
      text.textContent = message;
      if (percent === null) { bar.removeAttribute("value"); } else { bar.value = percent; }
      bar.classList.toggle("d-none", state === "failed");
    }
    function reasonOf(body, status) {
      var doc = new DOMParser().parseFromString(body, "text/html");
      var el = doc.querySelector(".error, [role=alert]");
      return (el && el.textContent.trim()) || String(status);
    }
    document.querySelectorAll("a[data-export]").forEach(function (link) {
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        if (busy) { return; }
        busy = true;
        var csv = link.getAttribute("data-export") === "csv";
        show(texts.starting, null);
        fetch(link.href, {credentials: "same-origin"}).then(function (resp) {
          if (!resp.ok) {
            return resp.text().then(function (body) { throw new Error(reasonOf(body, resp.status)); });
          }
          var length = Number(resp.headers.get("Content-Length")) || 0;
          // the rows to come: the export counts them (the list page counts only its first thousand)
          var rowsTotal = Number(resp.headers.get("X-Total-Count")) || total;
          var disposition = resp.headers.get("Content-Disposition") || "";
          var name = (/filename="?([^";]+)"?/.exec(disposition) || [null, "export"])[1];
          var reader = resp.body.getReader();
          var chunks = [], received = 0, lines = 0;
          function pump() {
            return reader.read().then(function (step) {
              if (step.done) { return; }
              chunks.push(step.value);
              received += step.value.length;
              if (csv) {
                for (var i = 0; i < step.value.length; i++) { if (step.value[i] === 10) { lines++; } }
                var rows = Math.max(0, lines - 1);
                if (rowsTotal) {
                  show(fill(texts.rows_of, {n: rows.toLocaleString(), total: rowsTotal.toLocaleString()}),
                       Math.min(100, 100 * rows / rowsTotal));
                } else {
                  show(fill(texts.rows, {n: rows.toLocaleString()}), null);
                }
              } else if (length) {
                show(fill(texts.bytes, {n: Math.round(received / 1024).toLocaleString()}), 100 * received / length);
              }
              return pump();
            });
          }
          return pump().then(function () {
            var blob = new Blob(chunks, {type: resp.headers.get("Content-Type") || "application/octet-stream"});
            var url = URL.createObjectURL(blob);
            var a = make("a", {href: url, download: name, className: "d-none"});
            document.body.appendChild(a);
            a.click();
            a.remove();
            setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
            show(fill(texts.done, {name: name}), 100, "done");
          });
        }).catch(function (err) {
          show(fill(texts.failed, {reason: err.message}), null, "failed");
        }).then(function () { busy = false; });
      });
    });
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
  }

  // ---- ticked rows: the toolbar to change one field of all of them, or trash them ----------
  function bulkSelection() {
    var form = document.getElementById("cb-bulk-form");
    var table = document.getElementById("cb-list-table");
    if (!form || !table) { return; }
    var texts = json("cb-bulk-texts", {});
    var boxes = Array.prototype.slice.call(table.querySelectorAll("input.cb-row-select"));
    var alls = Array.prototype.slice.call(document.querySelectorAll("input.cb-select-all"));
    var count = document.getElementById("cb-bulk-count");
    var clear = document.getElementById("cb-bulk-clear");
    alls.forEach(function (box) { box.hidden = false; });
    document.querySelectorAll(".cb-bulk-all").forEach(function (el) { el.hidden = false; });
    if (clear) { clear.hidden = false; }

    function ticked() { return boxes.filter(function (b) { return b.checked; }).length; }
    function update() {
      var n = ticked();
      form.classList.toggle("cb-bulk-idle", n === 0);
      count.textContent = n === 0 ? texts.none : (n === 1 ? texts.one : fill(texts.many, {n: n}));
      boxes.forEach(function (b) { var tr = b.closest("tr"); if (tr) { tr.classList.toggle("cb-selected", b.checked); } });
      alls.forEach(function (all) {
        all.checked = n > 0 && n === boxes.length;
        all.indeterminate = n > 0 && n < boxes.length;
      });
    }
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    alls.forEach(function (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        update();
      });
    });
    if (clear) {
      clear.addEventListener("click", function () {
        boxes.forEach(function (b) { b.checked = false; });
        update();
        if (boxes.length) { boxes[0].focus(); }
      });
    }

    // only the chosen field's control is shown (and submitted)
    var picker = document.getElementById("cb-bulk-field");
    function showField() {
      form.querySelectorAll(".cb-bulk-value").forEach(function (box) {
        var on = picker && box.getAttribute("data-field") === picker.value;
        box.hidden = !on;
        box.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !on; });
      });
    }
    if (picker) { picker.addEventListener("change", showField); showField(); }

    form.addEventListener("submit", function (ev) {
      var n = ticked();
      if (ev.submitter && ev.submitter.value === "trash") {
        var question = n === 1 ? texts.confirm_one : fill(texts.confirm_many, {n: n});
        if (!window.confirm(question)) { ev.preventDefault(); }
      }
    });
    // "Export selected": the list's own export link (its columns, sort and filter) plus the ticked ids
    document.querySelectorAll(".cb-bulk-export").forEach(function (el) { el.hidden = false; });
    form.querySelectorAll("a[data-export-selected]").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        var ids = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value.split(":")[0]; });
        ev.preventDefault();
        if (!ids.length) { count.textContent = texts.none; return; }
        var url = new URL(a.getAttribute("href"), window.location.href);
        url.searchParams.set("ids", ids.join(","));
        window.location.href = url.toString();
      });
    });
    window.addEventListener("pageshow", update);  // back to the page: boxes the browser kept ticked
    update();
  }

  function columnWidths() {
    document.querySelectorAll("#cb-list-table th[data-width]").forEach(function (th) {
      var w = Number(th.getAttribute("data-width"));
      if (w >= 40 && w <= 1000) { th.style.width = w + "px"; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    clickableRows();
    columnWidths();
    var form = document.getElementById("cb-filter-form");
    if (form) { new FilterBuilder(form); }
    columnChooser();
    exports();
    confirmations();
    bulkSelection();
  });
})();
