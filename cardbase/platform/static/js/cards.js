// cardbase cards: link pickers (type-ahead over the records the user may see), the live
// mirror of conditional field rules, child rows edited in place (fetch + server-rendered
// rows), "use the saved value" after a conflict, confirmations. No inline scripts (CSP).
(function () {
  "use strict";

  function csrf() { return window.cardbase && window.cardbase.csrfToken ? window.cardbase.csrfToken() : ""; }

  // ---- link picker ------------------------------------------------------------------------
  function initPickers(root) {
    root.querySelectorAll(".cb-link-picker").forEach(function (box) {
      if (box.dataset.ready) { return; }
      box.dataset.ready = "1";
      var text = box.querySelector("input[type=text]");
      var hidden = box.querySelector(".cb-link-id");
      var list = box.querySelector(".cb-link-list");
      var multi = box.closest(".cb-multi-link");  // a multi-link's "Add": each pick adds a row
      var chosen = text.value, timer = null, items = [], active = -1, seq = 0;
      function close() { list.classList.remove("show"); text.setAttribute("aria-expanded", "false"); active = -1; }
      function pick(item) {
        if (multi) {  // the next search starts afresh: drop what the typing still had in flight
          clearTimeout(timer); seq++;
          addLinked(multi, item); text.value = ""; chosen = ""; close(); text.focus(); return;
        }
        hidden.value = String(item.id); text.value = item.display; chosen = item.display; close();
        if (item.fill) { fillFrom(box, hidden.name, item.fill); }
        hidden.dispatchEvent(new Event("change", { bubbles: true }));
      }
      box.cbPick = pick;
      function show(found) {
        if (multi) { var have = linkedIds(multi); found = found.filter(function (it) { return have.indexOf(String(it.id)) < 0; }); }
        items = found; list.innerHTML = ""; active = -1;
        if (!found.length) {
          var none = document.createElement("li");
          none.className = "dropdown-item-text text-body-secondary small";
          none.textContent = box.dataset.none || "—";
          list.appendChild(none);
        }
        found.forEach(function (item, i) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button"; b.className = "dropdown-item"; b.setAttribute("role", "option");
          b.id = text.id + "-opt-" + i; b.textContent = item.display;
          b.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(item); });
          li.appendChild(b); list.appendChild(li);
        });
        list.classList.add("show"); text.setAttribute("aria-expanded", "true");
      }
      function search() {
        var mine = ++seq;
        var url = box.dataset.url + (box.dataset.url.indexOf("?") >= 0 ? "&" : "?") + "q=" + encodeURIComponent(text.value.trim());
        fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (found) { if (mine === seq && document.activeElement === text) { show(found); } })
          .catch(function () { /* offline: nothing offered */ });
      }
      function mark(i) {
        var buttons = list.querySelectorAll("button");
        buttons.forEach(function (b, j) { b.classList.toggle("active", j === i); });
        active = i;
        if (buttons[i]) { text.setAttribute("aria-activedescendant", buttons[i].id); }
      }
      text.addEventListener("input", function () {
        if (!text.value.trim() && hidden) { hidden.value = ""; chosen = ""; }
        clearTimeout(timer); timer = setTimeout(search, 200);
      });
      text.addEventListener("focus", function () { if (!text.disabled) { search(); } });
      text.addEventListener("keydown", function (ev) {
        if (ev.key === "ArrowDown") { ev.preventDefault(); mark(Math.min(active + 1, items.length - 1)); }
        else if (ev.key === "ArrowUp") { ev.preventDefault(); mark(Math.max(active - 1, 0)); }
        else if (ev.key === "Enter") { if (list.classList.contains("show") && items[active]) { ev.preventDefault(); pick(items[active]); } }
        else if (ev.key === "Escape") { close(); }
      });
      text.addEventListener("blur", function () {
        setTimeout(function () { close(); if (text.value.trim() && text.value !== chosen) { text.value = chosen; } }, 150);
      });
    });
  }

  // ---- multi-links: the linked records as rows, added by the picker, removed by a button ------
  function linkedIds(multi) {
    return Array.prototype.map.call(multi.querySelectorAll("tr.cb-multi-row"), function (tr) { return tr.dataset.id; });
  }
  function announce(multi, template, name) {
    var status = multi.querySelector(".cb-multi-status");
    if (status) { status.textContent = (template || "").replace("{name}", name); }
  }
  function multiChanged(multi) {
    multi.querySelector(".cb-multi-empty").hidden = multi.querySelectorAll("tr.cb-multi-row").length > 0;
    multi.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function addLinked(multi, item) {
    var id = String(item.id), shown = String(item.display || ("#" + id));
    if (linkedIds(multi).indexOf(id) >= 0) { return; }
    var name = multi.dataset.name, remove = multi.dataset.remove || "×";
    var tr = document.createElement("tr"); tr.className = "cb-multi-row"; tr.dataset.id = id;
    var cell = document.createElement("td");
    var a = document.createElement("a"); a.href = multi.dataset.cardUrl + id; a.textContent = shown;
    cell.appendChild(a);
    [[name, id], [name + "-text", shown]].forEach(function (pair) {
      var h = document.createElement("input"); h.type = "hidden"; h.name = pair[0]; h.value = pair[1]; cell.appendChild(h);
    });
    tr.appendChild(cell);
    // the target's columns beside the name (server-rendered, escaped: multi_link_cells.py)
    var heads = multi.querySelectorAll(".cb-multi-table thead th").length;
    var cells = document.createElement("tbody");
    cells.innerHTML = "<tr>" + (item.cells || []).join("") + "</tr>";
    Array.prototype.slice.call(cells.querySelectorAll("td")).forEach(function (td) { tr.appendChild(td); });
    while (heads && tr.children.length < heads - 1) { tr.appendChild(document.createElement("td")); }
    var end = document.createElement("td"); end.className = "text-end";
    var b = document.createElement("button"); b.type = "button"; b.className = "btn btn-sm btn-outline-secondary cb-multi-remove";
    b.textContent = "×"; b.title = remove; b.setAttribute("aria-label", remove + ": " + shown);
    end.appendChild(b); tr.appendChild(end);
    multi.querySelector(".cb-multi-table tbody").appendChild(tr);
    announce(multi, multi.dataset.added, shown);
    multiChanged(multi);
  }
  function setLinked(multi, raw) {
    multi.querySelector(".cb-multi-table tbody").innerHTML = "";
    (raw || []).forEach(function (item) { addLinked(multi, item); });
    multiChanged(multi);
  }
  function initMultiLinks() {
    document.addEventListener("click", function (ev) {
      var button = ev.target.closest && ev.target.closest(".cb-multi-remove");
      if (!button) { return; }
      var multi = button.closest(".cb-multi-link"), tr = button.closest("tr");
      var next = tr.nextElementSibling || tr.previousElementSibling;
      var shown = tr.querySelector("a") ? tr.querySelector("a").textContent : "";
      tr.remove();
      announce(multi, multi.dataset.removed, shown);
      multiChanged(multi);
      var focus = next ? next.querySelector(".cb-multi-remove") : multi.querySelector(".cb-multi-picker input[type=text]");
      if (focus) { focus.focus(); }
    });
  }

  // Fields filled from the chosen record (their source is this link): an empty control, or
  // one this picker filled before, takes the record's value; what the user typed stays.
  function fillFrom(box, linkName, fill) {
    var prefix = linkName.slice(0, linkName.indexOf("-") + 1);
    var scope = box.closest("tr") || box.closest("form") || document;
    Object.keys(fill).forEach(function (name) {
      var raw = Array.isArray(fill[name]) ? fill[name] : [fill[name]];
      var input = scope.querySelector("[name='" + prefix + name + "']");
      if (!input || input.disabled || (input.value !== "" && input.value !== input.dataset.cbFilled)) { return; }
      input.value = raw[0] == null ? "" : String(raw[0]);
      input.dataset.cbFilled = input.value;
      var currency = scope.querySelector("[name='" + prefix + name + "-currency']");
      if (currency && raw.length > 1 && raw[1]) { currency.value = String(raw[1]); }
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  // ---- child rows on a new record's card, saved with it (web/pending_rows.py) ----------------
  function initPendingRows() {
    document.querySelectorAll(".cb-pending-add").forEach(function (button) {
      var part = button.closest(".cb-part");
      var template = part.querySelector("template.cb-pending-template");
      var body = document.getElementById(button.getAttribute("aria-controls"));
      var empty = part.querySelector(".cb-part-empty");
      if (!template || !body) { return; }
      button.addEventListener("click", function () {
        var n = parseInt(button.getAttribute("data-next") || "0", 10);
        button.setAttribute("data-next", String(n + 1));
        var holder = document.createElement("tbody");
        holder.innerHTML = template.innerHTML.replace(/__n__/g, String(n));
        var row = holder.querySelector("tr");
        body.appendChild(row);
        if (empty) { empty.hidden = true; }
        initPickers(row);
        var first = row.querySelector("input:not([type=hidden]), select, textarea");
        if (first) { first.focus(); }
      });
    });
    document.addEventListener("click", function (ev) {
      var remove = ev.target.closest && ev.target.closest(".cb-pending-remove");
      if (remove) { remove.closest("tr").remove(); }
    });
  }

  // ---- "+ New" in a link picker: the new record's window hands it back (web/pick_new.py) ----
  function initNewInPicker() {
    document.addEventListener("click", function (ev) {
      var link = ev.target.closest && ev.target.closest("a.cb-link-new");
      if (!link) { return; }
      var popup = window.open(link.href, "cb-pick-" + link.getAttribute("data-pick"), "width=960,height=800");
      if (popup) { ev.preventDefault(); popup.focus(); }
    });
    window.addEventListener("message", function (ev) {
      var data = ev.data;
      if (ev.origin !== window.location.origin || !data || data.type !== "cardbase-picked") { return; }
      var text = document.getElementById(String(data.pick));
      var box = text && text.closest(".cb-link-picker");
      if (!box) { return; }
      if (box.closest(".cb-multi-link") && box.cbPick) { box.cbPick({ id: data.id, display: String(data.display || ("#" + data.id)) }); return; }
      var hidden = box.querySelector(".cb-link-id");
      hidden.value = String(data.id);
      text.value = String(data.display || ("#" + data.id));
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
      text.focus();
    });
  }

  // ---- conditional field rules (docs/field_rules.md: SQL's three-valued logic) ----------
  function fieldBox(form, name) { return form.querySelector('.cb-field[data-field="' + name + '"]'); }

  function parseNumber(text, lang) {
    var s = (text || "").replace(/[\s\u00a0\u202f]/g, "");
    if (!s) { return null; }
    var dec = lang && lang.indexOf("de") === 0 ? "," : ".";
    if (dec === "," && s.indexOf(",") < 0 && (s.match(/\./g) || []).length === 1 && !/^\d{1,3}\.\d{3}$/.test(s)) { dec = "."; }
    var group = dec === "," ? "." : ",";
    s = s.split(group).join("").replace(dec, ".");
    var n = Number(s);
    return isNaN(n) ? null : n;
  }

  var types = {};
  var known = {};  // values of fields the card shows no control of (from the server)
  function currentValue(form, name) {
    var box = fieldBox(form, name);
    if (!box || !box.dataset.editable) { return known[name] === undefined ? null : known[name]; }
    var type = box.dataset.type, lang = form.dataset.language || "en";
    if (type === "boolean") { var cb = box.querySelector("input[type=checkbox]"); return cb ? cb.checked : null; }
    if (type === "multi_choice") {
      var vals = [];
      box.querySelectorAll("input[type=checkbox]:checked").forEach(function (el) { vals.push(el.value); });
      return vals.length ? vals : null;
    }
    if (type === "link") { var h = box.querySelector(".cb-link-id"); return h && h.value ? Number(h.value) : null; }
    if (type === "links") { var ids = box.querySelector(".cb-multi-link") ? linkedIds(box.querySelector(".cb-multi-link")).map(Number) : []; return ids.length ? ids : null; }
    var el = box.querySelector("input:not([type=hidden]), select, textarea");
    if (!el) { return null; }
    var v = (el.value || "").trim();
    if (!v) { return null; }
    if (type === "integer" || type === "decimal" || type === "money") { return parseNumber(v, lang); }
    if (type === "user") { return Number(v); }
    return v;
  }

  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  function norm(type, v) {
    if (v === null || v === undefined) { return null; }
    if (type === "integer" || type === "decimal" || type === "money" || type === "link" || type === "user") { return Number(v); }
    return v;
  }
  function and3(parts) { var unknown = false; for (var i = 0; i < parts.length; i++) { if (parts[i] === false) { return false; } if (parts[i] === null) { unknown = true; } } return unknown ? null : true; }
  function or3(parts) { var unknown = false; for (var i = 0; i < parts.length; i++) { if (parts[i] === true) { return true; } if (parts[i] === null) { unknown = true; } } return unknown ? null : false; }

  function leaf(form, node) {
    var box = fieldBox(form, node.field), type = box ? box.dataset.type : (types[node.field] || "string");
    var cur = currentValue(form, node.field), op = node.op, val = node.value;
    var empty = cur === null || cur === "" || (Array.isArray(cur) && !cur.length);
    if (type === "boolean" && cur === false && op === "eq" && val === false) { return true; }
    if (op === "is_empty") { return empty || (type === "boolean" && cur === false && false); }
    if (op === "is_not_empty") { return !empty; }
    if ((op === "eq" || op === "ne") && val === null) { return op === "eq" ? empty : !empty; }
    if (type === "links") {  // several records: the store's has_any / has_all / has_none
      var ids = (cur || []).map(String), wanted = (Array.isArray(val) ? val : [val]).map(function (v) {
        return String(v && v.id !== undefined ? v.id : v);
      });
      var hits = wanted.filter(function (w) { return ids.indexOf(w) >= 0; }).length;
      if (op === "has_any") { return hits > 0; }
      if (op === "has_all") { return hits === wanted.length; }
      if (op === "has_none") { return hits === 0; }
      return null;
    }
    if (type === "multi_choice") {
      var have = cur || [], want = Array.isArray(val) ? val : [val];
      if (op === "eq") { return empty ? null : have.length === want.length && want.every(function (w) { return have.indexOf(w) >= 0; }); }
      if (op === "contains") { return empty ? null : want.every(function (w) { return have.indexOf(w) >= 0; }); }
      if (op === "not_contains") { return empty ? true : !want.every(function (w) { return have.indexOf(w) >= 0; }); }
      if (op === "in") { return empty ? null : want.some(function (w) { return have.indexOf(w) >= 0; }); }
      if (op === "not_in") { return empty ? true : !want.some(function (w) { return have.indexOf(w) >= 0; }); }
      return null;
    }
    var textual = typeof cur === "string" && (op === "contains" || op === "not_contains" || op === "starts_with");
    if (textual || (empty && (op === "contains" || op === "not_contains" || op === "starts_with"))) {
      if (empty) { return op === "not_contains" ? true : null; }
      var t = cur.toLowerCase(), p = String(val).toLowerCase();
      if (op === "starts_with") { return t.indexOf(p) === 0; }
      return op === "contains" ? t.indexOf(p) >= 0 : t.indexOf(p) < 0;
    }
    var a = norm(type, cur);
    if (type === "email" && typeof a === "string") { a = a.toLowerCase(); }
    function one(v) { var b = norm(type, v); if (type === "email" && typeof b === "string") { b = b.toLowerCase(); } return b; }
    if (op === "in" || op === "not_in") {
      var list = (val || []).map(one);
      if (!list.length) { return op === "in" ? false : true; }
      if (empty) { return op === "not_in" ? true : null; }
      var inside = list.some(function (b) { return b !== null && cmp(a, b) === 0; });
      return op === "in" ? inside : !inside;
    }
    if (op === "ne" && empty) { return true; }
    if (empty) { return null; }
    if (op === "between") { var lo = one(val[0]), hi = one(val[1]); return and3([lo === null ? null : cmp(a, lo) >= 0, hi === null ? null : cmp(a, hi) <= 0]); }
    var b = one(val);
    if (b === null) { return null; }
    var c = cmp(a, b);
    return { eq: c === 0, ne: c !== 0, lt: c < 0, le: c <= 0, gt: c > 0, ge: c >= 0 }[op];
  }

  function evaluate(form, tree) {
    if (!tree || typeof tree !== "object") { return null; }
    if (tree.and) { return and3(tree.and.map(function (t) { return evaluate(form, t); })); }
    if (tree.or) { return or3(tree.or.map(function (t) { return evaluate(form, t); })); }
    if (tree.not) { var v = evaluate(form, tree.not); return v === null ? null : !v; }
    return leaf(form, tree);
  }

  function setDisabled(box, reason, on) {
    box.querySelectorAll("input, select, textarea").forEach(function (el) {
      var reasons = (el.dataset.offBy || "").split(" ").filter(Boolean);
      if (!el.dataset.offBy && el.disabled) { reasons.push("server"); }
      var i = reasons.indexOf(reason);
      if (on && i < 0) { reasons.push(reason); }
      if (!on && i >= 0) { reasons.splice(i, 1); }
      el.dataset.offBy = reasons.join(" ") || " ";
      el.disabled = reasons.length > 0;
    });
  }

  function applyRules(form, rules) {
    Object.keys(rules).forEach(function (name) {
      var box = fieldBox(form, name);
      if (!box) { return; }
      var r = rules[name];
      var visible = r.visible_when ? evaluate(form, r.visible_when) === true : true;
      var required = visible && (!!box.dataset.alwaysRequired || (r.required_when ? evaluate(form, r.required_when) === true : false));
      var readonly = r.readonly_when ? evaluate(form, r.readonly_when) === true : false;
      box.classList.toggle("d-none", !visible);
      box.classList.toggle("cb-required", required);
      box.classList.toggle("cb-readonly", readonly);
      if (box.dataset.editable) {
        setDisabled(box, "hidden", !visible);
        setDisabled(box, "readonly", readonly);
        box.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), select, textarea").forEach(function (el) {
          if (required) { el.setAttribute("aria-required", "true"); } else { el.removeAttribute("aria-required"); }
        });
      }
    });
  }

  function initRules(form) {
    var holder = document.getElementById("cb-card-rules");
    if (!holder || !form) { return; }
    var data, rules;
    try { data = JSON.parse(holder.textContent || "{}"); } catch (e) { return; }
    rules = data.rules || {};
    known = data.values || {};
    types = data.types || {};
    if (!Object.keys(rules).length || !form.querySelector("[data-editable]")) { return; }
    var run = function () { applyRules(form, rules); };
    form.addEventListener("input", run);
    form.addEventListener("change", run);
    run();
  }

  // ---- conflicts: take the saved value into the form --------------------------------------
  function setRaw(box, raw) {
    var type = box.dataset.type;
    if (type === "boolean") { var cb = box.querySelector("input[type=checkbox]"); cb.checked = !!raw; }
    else if (type === "multi_choice") { box.querySelectorAll("input[type=checkbox]").forEach(function (el) { el.checked = (raw || []).indexOf(el.value) >= 0; }); }
    else if (type === "links") { setLinked(box.querySelector(".cb-multi-link"), raw); }
    else if (type === "link") { box.querySelector(".cb-link-id").value = raw && raw.id ? raw.id : ""; box.querySelector("input[type=text]").value = raw && raw.display ? raw.display : ""; }
    else if (type === "money") { box.querySelector("input.cb-number").value = raw ? raw[0] : ""; var cur = box.querySelector("select"); if (cur && raw && raw[1]) { cur.value = raw[1]; } }
    else { var el = box.querySelector("input:not([type=hidden]), select, textarea"); if (el) { el.value = raw === null ? "" : raw; } }
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function initConflicts(form) {
    if (!form) { return; }
    form.addEventListener("click", function (ev) {
      var btn = ev.target.closest(".cb-use-theirs");
      if (!btn) { return; }
      var box = fieldBox(form, btn.dataset.field);
      try { setRaw(box, JSON.parse(btn.dataset.raw)); } catch (e) { return; }
      var note = btn.closest(".cb-conflict");
      if (note) { note.classList.add("cb-conflict-resolved"); btn.remove(); }
    });
  }

  // ---- child rows edited in place --------------------------------------------------------
  function post(url, data) {
    return fetch(url, { method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } })
      .then(function (r) { return r.json().catch(function () { return { ok: false, message: r.statusText }; }); });
  }

  function fromHtml(html) {
    var t = document.createElement("tbody");
    t.innerHTML = html.trim();
    return t.firstElementChild;
  }

  function refreshParent(values) {
    Object.keys(values || {}).forEach(function (name) {
      document.querySelectorAll('[data-cb-value="' + name + '"]').forEach(function (el) { el.innerHTML = values[name]; });
    });
    if (window.cardbase.paintColours) { window.cardbase.paintColours(document); }
  }

  function initParts(root) {
    root.querySelectorAll(".cb-part[data-save-url]").forEach(function (part) {
      var tbody = part.querySelector("tbody"), alertBox = part.querySelector(".cb-part-alert");
      var saved = {};  // row id -> the shown row while it is edited
      function say(text, kind) {
        alertBox.innerHTML = "";
        if (!text) { return; }
        var d = document.createElement("div");
        d.className = "alert alert-" + (kind || "danger") + " py-1 px-2 small mb-2";
        d.textContent = text; alertBox.appendChild(d);
      }
      function count(delta) {
        var badge = part.querySelector(".cb-part-count");
        if (badge) { badge.textContent = String(Math.max(0, Number(badge.textContent || 0) + delta)); }
        part.querySelector(".cb-part-empty").hidden = tbody.querySelectorAll("tr.cb-row").length > 0;
      }
      function withCard(url, extra) {
        var u = new URL(url, window.location.href);
        Object.keys(extra || {}).forEach(function (k) { u.searchParams.set(k, extra[k]); });
        return u.toString();
      }
      function open(rowEl) {
        var id = rowEl ? rowEl.dataset.row : "";
        var url = withCard(part.dataset.formUrl, id ? { row: id } : {});
        return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
          .then(function (r) { return r.text().then(function (t) { return { ok: r.ok, text: t }; }); })
          .then(function (res) {
            if (!res.ok) { say(part.dataset.error); return; }
            var editRow = fromHtml(res.text);
            if (rowEl) { saved[id] = rowEl; rowEl.replaceWith(editRow); } else { tbody.appendChild(editRow); part.querySelector(".cb-part-empty").hidden = true; }
            initPickers(editRow);
            var first = editRow.querySelector("input:not([type=hidden]), select, textarea");
            if (first) { first.focus(); }
          });
      }
      function rowData(rowEl) {
        var data = new FormData();
        rowEl.querySelectorAll("input, select, textarea").forEach(function (el) {
          if (el.disabled || !el.name) { return; }
          if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
          if (el.name === "_row_version") { data.append("_version", el.value); return; }
          data.append(el.name, el.value);
        });
        data.append("csrf_token", csrf());
        return data;
      }
      function save(rowEl) {
        var id = rowEl.dataset.row;
        var url = part.dataset.saveUrl.replace(/\?.*$/, "") + (id ? "/" + id : "") + (part.dataset.saveUrl.indexOf("?") >= 0 ? part.dataset.saveUrl.replace(/^[^?]*/, "") : "");
        rowEl.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        return post(url, rowData(rowEl)).then(function (res) {
          var next = res.row ? fromHtml(res.row) : null;
          if (next) { rowEl.replaceWith(next); initPickers(next); }
          else { rowEl.querySelectorAll("button").forEach(function (b) { b.disabled = false; }); }
          if (res.ok) {
            say("");
            if (id) { delete saved[id]; } else { count(1); }
            refreshParent(res.parent);
          } else {
            say(res.message || part.dataset.error);
            if (res.saved && id) { saved[id] = fromHtml(res.saved); }
          }
        });
      }
      function cancel(rowEl) {
        var id = rowEl.dataset.row;
        if (id && saved[id]) { rowEl.replaceWith(saved[id]); delete saved[id]; } else { rowEl.remove(); count(0); }
        say("");
      }
      function remove(rowEl) {
        if (!window.confirm(part.dataset.confirm)) { return; }
        var data = new FormData();
        data.append("_version", rowEl.dataset.version || "");
        data.append("csrf_token", csrf());
        var url = part.dataset.saveUrl.replace(/\?.*$/, "") + "/" + rowEl.dataset.row + "/delete";
        post(url, data).then(function (res) {
          if (res.ok) { rowEl.remove(); count(-1); refreshParent(res.parent); say(res.message, "success"); }
          else { say(res.message || part.dataset.error); }
        });
      }
      part.addEventListener("click", function (ev) {
        var btn = ev.target.closest("button");
        if (!btn) { return; }
        var rowEl = btn.closest("tr");
        if (btn.classList.contains("cb-row-add")) { open(null); }
        else if (btn.classList.contains("cb-row-edit")) { open(rowEl); }
        else if (btn.classList.contains("cb-row-save")) { save(rowEl); }
        else if (btn.classList.contains("cb-row-cancel")) { cancel(rowEl); }
        else if (btn.classList.contains("cb-row-delete")) { remove(rowEl); }
      });
      part.addEventListener("keydown", function (ev) {
        var rowEl = ev.target.closest("tr.cb-row-editing");
        if (!rowEl || ev.target.tagName === "TEXTAREA") { return; }
        if (ev.key === "Enter" && !ev.target.closest(".cb-link-picker .show")) {
          var list = ev.target.closest(".cb-link-picker");
          if (list && list.querySelector(".cb-link-list.show")) { return; }
          ev.preventDefault(); save(rowEl);
        } else if (ev.key === "Escape" && !ev.target.closest(".cb-link-picker")) { cancel(rowEl); }
      });
    });
  }

  // ---- errors, tabs, confirmations --------------------------------------------------------
  function showTabOf(el) {
    var pane = el && el.closest(".tab-pane");
    if (!pane || pane.classList.contains("active")) { return; }
    var trigger = document.querySelector('[data-bs-target="#' + pane.id + '"]');
    if (trigger && window.bootstrap) { window.bootstrap.Tab.getOrCreateInstance(trigger).show(); }
  }

  function initErrors() {
    var summary = document.getElementById("cb-error-summary");
    var firstBad = document.querySelector(".cb-card-form .is-invalid, .cb-card-form .cb-has-conflict");
    if (firstBad) { showTabOf(firstBad); }
    if (summary) { summary.focus(); }
    document.querySelectorAll(".cb-error-link").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        var target = document.getElementById(a.dataset.target);
        if (!target) { return; }
        ev.preventDefault(); showTabOf(target); target.focus();
      });
    });
  }

  function initConfirm() {
    document.querySelectorAll("form.cb-confirm").forEach(function (form) {
      form.addEventListener("submit", function (ev) { if (!window.confirm(form.dataset.confirm)) { ev.preventDefault(); } });
    });
  }

  function initCardForm(form) {
    if (!form) { return; }
    form.addEventListener("keydown", function (ev) {
      // Enter in a picker's search box picks, never submits the card
      if (ev.key === "Enter" && ev.target.closest && ev.target.closest(".cb-link-picker, .cb-part")) { ev.preventDefault(); }
    });
    var saving = false;
    window.addEventListener("pageshow", function () {  // back from the next page: usable again
      saving = false;
      form.querySelectorAll(".cb-part [data-was-enabled]").forEach(function (el) { el.disabled = false; el.removeAttribute("data-was-enabled"); });
    });
    form.addEventListener("submit", function (ev) {
      if (saving) { ev.preventDefault(); return; }
      saving = true;
      // rows being edited in a sub-table are not part of the card's save -- except a new
      // record's rows, which are saved with it (web/pending_rows.py)
      form.querySelectorAll(".cb-part input, .cb-part select, .cb-part textarea").forEach(function (el) {
        if (el.closest(".cb-row-pending")) { return; }
        if (!el.disabled) { el.setAttribute("data-was-enabled", "1"); el.disabled = true; }
      });
    });
  }

  window.cardbase = window.cardbase || {};
  window.cardbase.cards = { evaluate: evaluate, initPickers: initPickers };
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("cb-card-form");
    initPickers(document);
    initNewInPicker();
    initMultiLinks();
    initPendingRows();
    initRules(form);
    initConflicts(form);
    initParts(document);
    initErrors();
    initConfirm();
    initCardForm(form);
  });
})();
