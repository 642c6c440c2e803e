// cardbase configurator: the card designer. The layout lives in one object (tabs ->
// sections -> items), is drawn from it after every change and written to the hidden
// input #cb-card-layout, which the Save button posts; the server validates it.
// Items move by HTML5 drag and drop or by keyboard: each item has "Move up", "Move down"
// and a "Move to section" select; the palette lists what is not on the card yet.
(function () {
  "use strict";
  var data, layout, texts, palette, root, paletteList, target, hidden, statusBox, form;
  var dragKey = null, previewTimer = null, previewSeq = 0;

  var el = window.cardbase.el;  // cardbase.js, loaded on every page
  function safe(key) { return String(key).replace(/[^a-zA-Z0-9_-]/g, "_"); }
  function listKind(item) { return item.children ? "children" : (item.related ? "related" : null); }
  function keyOf(item) {
    if (item.field !== undefined) { return "f:" + item.field; }
    var kind = listKind(item);
    return "l:" + item[kind].object + "." + item[kind].link;
  }
  function fieldInfo(name) {
    for (var i = 0; i < palette.fields.length; i++) { if (palette.fields[i].name === name) { return palette.fields[i]; } }
    return null;
  }
  function listInfo(object, link) {
    for (var i = 0; i < palette.lists.length; i++) {
      var l = palette.lists[i];
      if (l.object === object && l.link === link) { return l; }
    }
    return null;
  }
  function titleOf(item) {
    if (item.field !== undefined) {
      var f = fieldInfo(item.field);
      return (item.label || (f ? f.label : item.field));
    }
    return item.label || texts.untitled;
  }
  function announce(text) { if (statusBox) { statusBox.textContent = text; } }

  // ---- the model ------------------------------------------------------------------------
  function sections() {
    var out = [];
    layout.tabs.forEach(function (tab, ti) {
      tab.sections.forEach(function (section, si) { out.push({ti: ti, si: si, tab: tab, section: section}); });
    });
    return out;
  }
  function sectionName(ref) {
    var tabPart = layout.tabs.length > 1 ? (ref.tab.label || texts.tab + " " + (ref.ti + 1)) + " › " : "";
    return tabPart + (ref.section.label || texts.section + " " + (ref.si + 1));
  }
  function find(key) {
    var found = null;
    layout.tabs.forEach(function (tab, ti) {
      tab.sections.forEach(function (section, si) {
        section.items.forEach(function (item, ii) {
          if (keyOf(item) === key) { found = {ti: ti, si: si, ii: ii, item: item, section: section}; }
        });
      });
    });
    return found;
  }
  function placedKeys() {
    var keys = {};
    sections().forEach(function (ref) { ref.section.items.forEach(function (item) { keys[keyOf(item)] = true; }); });
    return keys;
  }
  function newItem(key) {
    if (key.indexOf("f:") === 0) { return {field: key.substr(2), column: 1}; }
    var rest = key.substr(2), dot = rest.lastIndexOf(".");
    var info = listInfo(rest.substr(0, dot), rest.substr(dot + 1));
    if (!info) { return null; }
    var item = {label: info.label, columns: info.default_columns.slice()};
    item[info.kind] = {object: info.object, link: info.link};
    return item;
  }
  // Put the item `key` (on the card or from the palette) into section (ti, si) at `index`.
  function place(key, ti, si, index) {
    var from = find(key), item;
    var dest = layout.tabs[ti].sections[si];
    if (from) {
      item = from.section.items.splice(from.ii, 1)[0];
      if (from.section === dest && from.ii < index) { index -= 1; }
    } else {
      item = newItem(key);
      if (!item) { return; }
    }
    if (item.column && item.column > dest.columns) { item.column = dest.columns; }
    index = Math.max(0, Math.min(index, dest.items.length));
    dest.items.splice(index, 0, item);
  }
  function unplace(key) {
    var from = find(key);
    if (from) { from.section.items.splice(from.ii, 1); }
  }

  function changed(focusId, message) {
    hidden.value = JSON.stringify(layout);
    render();
    if (focusId) {
      var node = document.getElementById(focusId);
      if (node) { node.focus(); }
    }
    if (message) { announce(message); }
    schedulePreview();
  }

  // ---- drawing --------------------------------------------------------------------------
  function button(cls, label, text, handler, id) {
    var b = el("button", {type: "button", "class": "btn btn-sm " + cls, "aria-label": label, title: label}, text);
    if (id) { b.id = id; }
    b.addEventListener("click", handler);
    return b;
  }
  function labelled(input, id, text, cls) {
    var wrap = el("div", {"class": cls || "mb-1"});
    input.id = id;
    wrap.appendChild(el("label", {"for": id, "class": "form-label small mb-0"}, text));
    wrap.appendChild(input);
    return wrap;
  }
  function textInput(value, onInput, attrs) {
    var input = el("input", Object.assign({type: "text", "class": "form-control form-control-sm"}, attrs || {}));
    input.value = value || "";
    input.addEventListener("input", function () { onInput(input.value); hidden.value = JSON.stringify(layout); });
    input.addEventListener("change", schedulePreview);  // no redraw here: it would take the focus away
    return input;
  }

  function render() {
    var active = document.activeElement && document.activeElement.id;
    root.textContent = "";
    var refs = sections();
    layout.tabs.forEach(function (tab, ti) { root.appendChild(renderTab(tab, ti, refs)); });
    root.appendChild(button("btn-outline-secondary cb-add-tab", texts.add_tab, "+ " + texts.add_tab, function () {
      layout.tabs.push({label: texts.tab + " " + (layout.tabs.length + 1),
                        sections: [{label: texts.section + " 1", columns: 1, help: "", items: []}]});
      if (layout.tabs.length === 2 && !layout.tabs[0].label) { layout.tabs[0].label = texts.tab + " 1"; }
      changed("cb-t" + (layout.tabs.length - 1) + "-label");
    }, "cb-add-tab"));
    renderPalette(refs);
    if (active && document.getElementById(active) && document.activeElement === document.body) {
      document.getElementById(active).focus();
    }
  }

  function renderTab(tab, ti, refs) {
    var box = el("section", {"class": "card mb-3 cb-tab", "data-tab": String(ti)});
    var body = el("div", {"class": "card-body"});
    var head = el("div", {"class": "d-flex flex-wrap align-items-end gap-2 mb-2"});
    var label = textInput(tab.label, function (v) { tab.label = v; });
    head.appendChild(labelled(label, "cb-t" + ti + "-label", texts.tab_label + " " + (ti + 1), "flex-grow-1"));
    if (layout.tabs.length > 1) {
      head.appendChild(button("btn-outline-secondary", texts.tab_up, "←", function () {
        if (ti > 0) { layout.tabs.splice(ti - 1, 0, layout.tabs.splice(ti, 1)[0]); changed("cb-t" + (ti - 1) + "-up", texts.moved); }
      }, "cb-t" + ti + "-up"));
      head.appendChild(button("btn-outline-secondary", texts.tab_down, "→", function () {
        if (ti < layout.tabs.length - 1) { layout.tabs.splice(ti + 1, 0, layout.tabs.splice(ti, 1)[0]); changed("cb-t" + (ti + 1) + "-down", texts.moved); }
      }, "cb-t" + ti + "-down"));
      head.appendChild(button("btn-outline-danger", texts.remove_tab + " " + (tab.label || ti + 1), texts.remove_tab, function () {
        layout.tabs.splice(ti, 1);
        changed("cb-add-tab", texts.removed);
      }, "cb-t" + ti + "-remove"));
    }
    body.appendChild(head);
    tab.sections.forEach(function (section, si) { body.appendChild(renderSection(tab, ti, section, si, refs)); });
    body.appendChild(button("btn-sm btn-outline-secondary cb-add-section", texts.add_section, "+ " + texts.add_section, function () {
      tab.sections.push({label: texts.section + " " + (tab.sections.length + 1), columns: 1, help: "", items: []});
      changed("cb-s" + ti + "-" + (tab.sections.length - 1) + "-label");
    }, "cb-t" + ti + "-add-section"));
    box.appendChild(body);
    return box;
  }

  function renderSection(tab, ti, section, si, refs) {
    var id = "cb-s" + ti + "-" + si;
    var box = el("fieldset", {"class": "border rounded p-2 mb-2 cb-section", "data-section": ti + ":" + si, id: id});
    box.appendChild(el("legend", {"class": "visually-hidden"}, sectionName({ti: ti, si: si, tab: tab, section: section})));
    var head = el("div", {"class": "row g-2 align-items-end mb-2"});
    var label = textInput(section.label, function (v) { section.label = v; });
    head.appendChild(labelled(label, id + "-label", texts.section_label, "col-12 col-md-5"));
    var cols = el("select", {"class": "form-select form-select-sm cb-section-columns"});
    for (var n = 1; n <= data.max_columns; n++) {
      var o = el("option", {value: String(n)}, String(n));
      if (n === section.columns) { o.selected = true; }
      cols.appendChild(o);
    }
    cols.addEventListener("change", function () {
      section.columns = parseInt(cols.value, 10);
      section.items.forEach(function (item) { if (item.column && item.column > section.columns) { item.column = section.columns; } });
      changed(id + "-columns");
    });
    head.appendChild(labelled(cols, id + "-columns", texts.columns, "col-4 col-md-2"));
    var tools = el("div", {"class": "col-8 col-md-5 text-end"});
    tools.appendChild(button("btn-outline-secondary", texts.section_up, "↑", function () { moveSection(ti, si, -1, id + "-up"); }, id + "-up"));
    tools.appendChild(button("btn-outline-secondary ms-1", texts.section_down, "↓", function () { moveSection(ti, si, 1, id + "-down"); }, id + "-down"));
    tools.appendChild(button("btn-outline-danger ms-1", texts.remove_section + " " + (section.label || si + 1), texts.remove_section, function () {
      tab.sections.splice(si, 1);
      changed("cb-t" + ti + "-add-section", texts.removed);
    }, id + "-remove"));
    head.appendChild(tools);
    box.appendChild(head);
    var help = el("textarea", {"class": "form-control form-control-sm", rows: "1"});
    help.value = section.help || "";
    help.addEventListener("input", function () { section.help = help.value; hidden.value = JSON.stringify(layout); });
    box.appendChild(labelled(help, id + "-help", texts.help, "mb-2"));
    var list = el("ul", {"class": "list-unstyled cb-items mb-0", "data-drop": ti + ":" + si, "aria-label": sectionName({ti: ti, si: si, tab: tab, section: section})});
    section.items.forEach(function (item, ii) { list.appendChild(renderItem(item, ti, si, ii, section, refs)); });
    if (!section.items.length) { list.appendChild(el("li", {"class": "cb-drop-hint text-body-secondary small"}, texts.drop_here)); }
    dropZone(list, ti, si);
    box.appendChild(list);
    return box;
  }

  function moveSection(ti, si, delta, focusId) {
    var all = sections(), pos = -1;
    all.forEach(function (ref, i) { if (ref.ti === ti && ref.si === si) { pos = i; } });
    var to = all[pos + delta];
    if (!to) { return; }
    var moving = layout.tabs[ti].sections.splice(si, 1)[0];
    if (to.ti === ti) {
      layout.tabs[ti].sections.splice(to.si, 0, moving);
      changed("cb-s" + ti + "-" + to.si + (delta < 0 ? "-up" : "-down"), texts.moved);
    } else {
      var dest = layout.tabs[to.ti].sections, at = delta < 0 ? dest.length : 0;
      dest.splice(at, 0, moving);
      changed("cb-s" + to.ti + "-" + at + (delta < 0 ? "-up" : "-down"), texts.moved);
    }
  }

  function renderItem(item, ti, si, ii, section, refs) {
    var key = keyOf(item), id = "cb-i-" + safe(key);
    var li = el("li", {"class": "cb-item border rounded p-2 mb-1 bg-body", draggable: "true", "data-key": key, id: id});
    var row = el("div", {"class": "d-flex flex-wrap align-items-center gap-1"});
    row.appendChild(el("span", {"class": "cb-grip text-body-secondary", "aria-hidden": "true"}, "⠿"));
    var title = el("span", {"class": "cb-item-title me-auto"});
    title.appendChild(document.createTextNode(titleOf(item) + " "));
    if (item.field !== undefined) {
      title.appendChild(el("code", {"class": "small"}, item.field));
    } else {
      title.appendChild(el("span", {"class": "badge text-bg-light border"}, listKind(item) === "children" ? texts.child_list : texts.related_list));
    }
    row.appendChild(title);
    if (item.field !== undefined && section.columns > 1) {
      var col = el("select", {"class": "form-select form-select-sm w-auto cb-item-column", id: id + "-column", "aria-label": texts.column + ": " + titleOf(item)});
      for (var n = 1; n <= section.columns; n++) {
        var o = el("option", {value: String(n)}, texts.column + " " + n);
        if (n === (item.column || 1)) { o.selected = true; }
        col.appendChild(o);
      }
      col.addEventListener("change", function () { item.column = parseInt(col.value, 10); changed(id + "-column"); });
      row.appendChild(col);
    }
    row.appendChild(button("btn-outline-secondary cb-move-up", texts.move_up + ": " + titleOf(item), "↑", function () {
      if (ii > 0) { place(key, ti, si, ii - 1); changed(id + "-up", texts.moved); }
    }, id + "-up"));
    row.appendChild(button("btn-outline-secondary cb-move-down", texts.move_down + ": " + titleOf(item), "↓", function () {
      if (ii < section.items.length - 1) { place(key, ti, si, ii + 2); changed(id + "-down", texts.moved); }
    }, id + "-down"));
    var move = el("select", {"class": "form-select form-select-sm w-auto cb-move-to", id: id + "-move", "aria-label": texts.move_to + ": " + titleOf(item)});
    refs.forEach(function (ref) {
      var o = el("option", {value: ref.ti + ":" + ref.si}, sectionName(ref));
      if (ref.ti === ti && ref.si === si) { o.selected = true; }
      move.appendChild(o);
    });
    move.addEventListener("change", function () {
      var parts = move.value.split(":"), t = parseInt(parts[0], 10), s = parseInt(parts[1], 10);
      place(key, t, s, layout.tabs[t].sections[s].items.length);
      changed(id + "-move", texts.moved);
    });
    row.appendChild(move);
    row.appendChild(button("btn-outline-danger cb-remove", texts.remove + ": " + titleOf(item), "×", function () {
      unplace(key);
      changed("cb-palette-target", texts.removed);
    }, id + "-remove"));
    li.appendChild(row);
    li.appendChild(renderDetails(item, id));
    li.addEventListener("dragstart", function (ev) {
      dragKey = key;
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", key);
      li.classList.add("cb-dragging");
    });
    li.addEventListener("dragend", function () { dragKey = null; li.classList.remove("cb-dragging"); });
    return li;
  }

  function renderDetails(item, id) {
    var details = el("details", {"class": "cb-item-details mt-1"});
    details.appendChild(el("summary", {"class": "small"}, texts.details));
    var grid = el("div", {"class": "row g-2 mt-1"});
    var label = textInput(item.label, function (v) { if (v) { item.label = v; } else { delete item.label; } },
                          {placeholder: item.field !== undefined ? texts.label_placeholder : ""});
    grid.appendChild(labelled(label, id + "-label", texts.label, "col-12 col-md-6"));
    var help = textInput(item.help, function (v) { if (v) { item.help = v; } else { delete item.help; } });
    grid.appendChild(labelled(help, id + "-help", texts.help, "col-12 col-md-6"));
    var kind = listKind(item);
    if (kind) {
      var ref = item[kind], info = listInfo(ref.object, ref.link);
      var kindSel = el("select", {"class": "form-select form-select-sm"});
      [["children", texts.child_list], ["related", texts.related_list]].forEach(function (pair) {
        var o = el("option", {value: pair[0]}, pair[1]);
        if (pair[0] === kind) { o.selected = true; }
        kindSel.appendChild(o);
      });
      kindSel.addEventListener("change", function () {
        delete item[kind];
        item[kindSel.value] = ref;
        changed("cb-i-" + safe(keyOf(item)) + "-kind");
      });
      grid.appendChild(labelled(kindSel, id + "-kind", texts.kind, "col-12 col-md-6"));
      if (info) {
        var cols = el("select", {"class": "form-select form-select-sm", multiple: "multiple", size: String(Math.min(6, info.columns.length))});
        info.columns.forEach(function (c) {
          var o = el("option", {value: c.name}, c.label);
          if (item.columns.indexOf(c.name) >= 0) { o.selected = true; }
          cols.appendChild(o);
        });
        cols.addEventListener("change", function () {
          item.columns = Array.prototype.filter.call(cols.options, function (o) { return o.selected; })
            .map(function (o) { return o.value; });
          hidden.value = JSON.stringify(layout);
          schedulePreview();
        });
        grid.appendChild(labelled(cols, id + "-columns", texts.list_columns, "col-12 col-md-6"));
      }
    }
    if (item.field !== undefined && (item.label || item.help)) { details.open = true; }
    details.appendChild(grid);
    return details;
  }

  function renderPalette(refs) {
    var keep = target.value;
    target.textContent = "";
    refs.forEach(function (ref) {
      var o = el("option", {value: ref.ti + ":" + ref.si}, sectionName(ref));
      if (o.value === keep) { o.selected = true; }
      target.appendChild(o);
    });
    paletteList.textContent = "";
    var placed = placedKeys(), entries = [];
    palette.fields.forEach(function (f) {
      if (!placed["f:" + f.name]) { entries.push({key: "f:" + f.name, label: f.label, note: f.system ? texts.system : f.name}); }
    });
    palette.lists.forEach(function (l) {
      var key = "l:" + l.object + "." + l.link;
      if (!placed[key]) { entries.push({key: key, label: l.label, note: l.kind === "children" ? texts.child_list : texts.related_list}); }
    });
    if (!entries.length) { paletteList.appendChild(el("li", {"class": "small text-body-secondary"}, texts.palette_empty)); }
    entries.forEach(function (entry) {
      var id = "cb-p-" + safe(entry.key);
      var li = el("li", {"class": "cb-palette-item border rounded p-1 mb-1 d-flex align-items-center gap-1 bg-body", draggable: "true", "data-key": entry.key, id: id});
      var title = el("span", {"class": "me-auto small"}, entry.label + " ");
      title.appendChild(el("span", {"class": "text-body-secondary"}, "(" + entry.note + ")"));
      li.appendChild(title);
      li.appendChild(button("btn-outline-primary cb-palette-add", texts.add + ": " + entry.label, "+", function () {
        if (!target.value) { return; }
        var parts = target.value.split(":"), t = parseInt(parts[0], 10), s = parseInt(parts[1], 10);
        place(entry.key, t, s, layout.tabs[t].sections[s].items.length);
        changed("cb-i-" + safe(entry.key) + "-up", texts.added);
      }, id + "-add"));
      li.addEventListener("dragstart", function (ev) {
        dragKey = entry.key;
        ev.dataTransfer.effectAllowed = "move";
        ev.dataTransfer.setData("text/plain", entry.key);
      });
      li.addEventListener("dragend", function () { dragKey = null; });
      paletteList.appendChild(li);
    });
  }

  // ---- drag and drop ----------------------------------------------------------------------
  function dropIndex(list, y) {
    var items = list.querySelectorAll(":scope > .cb-item"), index = items.length;
    for (var i = 0; i < items.length; i++) {
      var box = items[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) { index = i; break; }
    }
    return index;
  }
  function dropZone(list, ti, si) {
    list.addEventListener("dragover", function (ev) {
      ev.preventDefault();
      ev.dataTransfer.dropEffect = "move";
      list.classList.add("cb-drop-target");
    });
    list.addEventListener("dragleave", function () { list.classList.remove("cb-drop-target"); });
    list.addEventListener("drop", function (ev) {
      ev.preventDefault();
      list.classList.remove("cb-drop-target");
      var key = ev.dataTransfer.getData("text/plain") || dragKey;
      if (!key) { return; }
      place(key, ti, si, dropIndex(list, ev.clientY));
      dragKey = null;
      changed(null, texts.moved);
    });
  }
  function paletteDrop() {
    paletteList.addEventListener("dragover", function (ev) { ev.preventDefault(); });
    paletteList.addEventListener("drop", function (ev) {
      ev.preventDefault();
      var key = ev.dataTransfer.getData("text/plain") || dragKey;
      if (key && find(key)) { unplace(key); changed(null, texts.removed); }
    });
  }

  // ---- preview ------------------------------------------------------------------------------
  function schedulePreview() {
    if (previewTimer) { clearTimeout(previewTimer); }
    previewTimer = setTimeout(preview, 700);
  }
  function preview() {
    var box = document.getElementById("cb-preview"), record = document.getElementById("cb-preview-record");
    if (!box || !form.getAttribute("data-preview-url")) { return; }
    var seq = ++previewSeq;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": window.cardbase.csrfToken()},
      body: JSON.stringify({layout: layout, record_id: record && record.value ? record.value : null})
    }).then(function (response) { return response.json(); }).then(function (body) {
      if (seq !== previewSeq) { return; }
      if (body.html !== undefined) {
        box.innerHTML = body.html;  // rendered by the server with autoescape
        if (window.cardbase.paintColours) { window.cardbase.paintColours(box); }
      } else {
        box.textContent = "";
        var ul = el("ul", {"class": "text-danger small mb-0 cb-preview-errors"});
        (body.errors || [texts.preview_failed]).forEach(function (e) { ul.appendChild(el("li", {}, e)); });
        box.appendChild(ul);
      }
    }).catch(function () {
      if (seq === previewSeq) { box.textContent = texts.preview_failed; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("cb-card-data");
    root = document.getElementById("cb-card-designer");
    if (!source || !root) { return; }
    data = JSON.parse(source.textContent);
    texts = data.texts;
    palette = data.palette;
    hidden = document.getElementById("cb-card-layout");
    try { layout = JSON.parse(hidden.value); } catch (e) { layout = data.layout; }
    if (!layout || !Array.isArray(layout.tabs)) { layout = data.layout; }
    if (!layout.tabs.length) { layout.tabs.push({label: "", sections: []}); }
    layout.tabs.forEach(function (tab) {
      tab.sections = tab.sections || [];
      tab.sections.forEach(function (s) { s.items = s.items || []; s.columns = s.columns || 1; });
    });
    paletteList = document.getElementById("cb-palette");
    target = document.getElementById("cb-palette-target");
    statusBox = document.getElementById("cb-designer-status");
    form = document.getElementById("cb-card-form");
    form.addEventListener("submit", function () { hidden.value = JSON.stringify(layout); });
    paletteDrop();
    hidden.value = JSON.stringify(layout);
    render();
    document.getElementById("cb-preview-button").addEventListener("click", preview);
    document.getElementById("cb-preview-record").addEventListener("change", preview);
    preview();
  });
})();
