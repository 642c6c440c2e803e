/* Report designer: fields are dragged from the palette into rows, columns and values (or
   added with each zone's picker and button: the keyboard way); every change re-runs the
   definition on the server and redraws the pivot and chart (reports.js). The filter is the
   end-user lists' filter builder (lists.js drives #cb-filter-form); on every change it is
   read back through the builder's own serialising (a submit event that never submits). */
(function () {
  "use strict";
  var state = JSON.parse(document.getElementById("cb-designer-state").textContent);
  var texts = JSON.parse(document.getElementById("cb-report-texts").textContent);
  var def = state.definition;
  def.rows = def.rows || []; def.columns = def.columns || []; def.measures = def.measures || [];
  var byPath = {};
  state.fields.forEach(function (f) { byPath[f.path] = f; });
  var filter = def.filter || null;
  var filterTouched = false;  // an untouched starter row of the builder is no condition
  var timer = null;

  function el(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) { n.textContent = text; }
    if (cls) { n.className = cls; }
    return n;
  }
  function label(path) { return byPath[path] ? byPath[path].label : path; }
  function select(options, value, name) {
    var s = el("select", null, "form-select form-select-sm d-inline-block w-auto");
    s.setAttribute("aria-label", name);
    options.forEach(function (o) {
      var opt = el("option", o[1]); opt.value = o[0]; if (o[0] === value) { opt.selected = true; } s.appendChild(opt);
    });
    return s;
  }
  function removeButton(list, i) {
    var b = el("button", "×", "btn btn-sm btn-link p-0 ms-1");
    b.type = "button"; b.setAttribute("aria-label", texts.remove);
    b.addEventListener("click", function () { list.splice(i, 1); render(); changed(); });
    return b;
  }
  function renderZone(zone) {
    var node = document.getElementById("cb-zone-" + zone), list = def[zone];
    node.textContent = "";
    list.forEach(function (item, i) {
      var chip = el("span", null, "cb-chip"); chip.dataset.zone = zone;
      if (zone === "measures") {
        var ops = select(state.ops, item.op, "op");
        ops.addEventListener("change", function () { item.op = ops.value; changed(); });
        chip.appendChild(ops);
        chip.appendChild(el("span", item.field ? label(item.field) : ""));
      } else {
        chip.appendChild(el("span", label(item.field)));
        if (byPath[item.field] && byPath[item.field].date) {
          var buckets = select([["", "—"]].concat(state.buckets), item.bucket || "", "bucket");
          buckets.addEventListener("change", function () { item.bucket = buckets.value || null; changed(); });
          chip.appendChild(buckets);
        }
      }
      chip.appendChild(removeButton(list, i));
      node.appendChild(chip);
    });
  }
  function render() { ["rows", "columns", "measures"].forEach(renderZone); }
  // the builder's condition: lists.js's submit handler (registered first) writes it into the
  // hidden input, or prevents the submit when a condition lacks its value
  function readFilter() {
    var form = document.getElementById("cb-filter-form");
    var event = new Event("submit", {cancelable: true});
    var valid = form.dispatchEvent(event);
    if (valid) {
      var text = document.getElementById("cb-filter-value").value;
      filter = text ? JSON.parse(text) : null;
    }
    return valid;
  }
  function add(zone, path) {
    if (zone === "measures") {
      var f = byPath[path];
      def.measures.push(path ? {op: f && f.number ? "sum" : "count", field: path} : {op: "count"});
    } else {
      var item = {field: path};
      if (byPath[path] && byPath[path].date) { item.bucket = "month"; }
      def[zone].push(item);
    }
    render(); changed();
  }
  function definition() {
    var out = JSON.parse(JSON.stringify(def));
    out.filter = filter;
    out.chart = {type: document.getElementById("cb-chart-type").value};
    var top = parseInt(document.getElementById("cb-top").value, 10);
    out.top = top > 0 ? top : null;
    if (!out.measures.length) { out.measures = [{op: "count"}]; }
    ["rows", "columns"].forEach(function (z) { out[z].forEach(function (g) { if (!g.bucket) { delete g.bucket; } }); });
    return out;
  }
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": window.cardbase.csrfToken()},
      body: JSON.stringify(body)}).then(function (r) { return r.json(); });
  }
  function preview() {
    post(state.preview, definition()).then(function (body) {
      var problem = document.getElementById("cb-report-problem");
      if (body.error) { problem.textContent = body.error; problem.classList.remove("d-none"); return; }
      window.cardbaseReport.draw(body.data);
    });
  }
  function changed() { window.clearTimeout(timer); timer = window.setTimeout(preview, 150); }

  document.querySelectorAll("[data-add]").forEach(function (button) {
    button.addEventListener("click", function () {
      add(button.dataset.add, document.getElementById("cb-add-" + button.dataset.add).value);
    });
  });
  document.getElementById("cb-palette").addEventListener("dragstart", function (event) {
    var chip = event.target.closest(".cb-chip");
    if (chip) { event.dataTransfer.setData("text/plain", chip.dataset.path); }
  });
  document.querySelectorAll(".cb-zone").forEach(function (zone) {
    zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.classList.add("cb-over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("cb-over"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault(); zone.classList.remove("cb-over");
      var path = event.dataTransfer.getData("text/plain");
      if (byPath[path]) { add(zone.dataset.zone, path); }
    });
  });
  document.addEventListener("DOMContentLoaded", function () {  // after lists.js built the builder
    var form = document.getElementById("cb-filter-form"), box = document.getElementById("cb-filter-box");
    var filterTimer = null;
    form.addEventListener("submit", function (event) {  // Enter in a value: never leaves the page
      if (event.isTrusted) { event.preventDefault(); filterChanged(); }
    });
    function filterChanged() {
      filterTouched = true;
      window.clearTimeout(filterTimer);
      filterTimer = window.setTimeout(function () { if (readFilter()) { changed(); } }, 300);
    }
    box.addEventListener("change", filterChanged);
    box.addEventListener("input", filterChanged);
    box.addEventListener("click", function (event) {  // a condition or group removed (no change event)
      if (event.target.closest("button")) { filterChanged(); }
    });
  });
  ["cb-chart-type", "cb-top"].forEach(function (id) { document.getElementById(id).addEventListener("change", changed); });
  document.getElementById("cb-save").addEventListener("click", function () {
    if (filterTouched && !readFilter()) { document.getElementById("cb-save-problem").textContent = texts.filter_incomplete; return; }
    var share = Array.prototype.map.call(document.getElementById("cb-share").selectedOptions, function (o) { return o.value; });
    post(state.save, {id: state.id, name: document.getElementById("cb-report-title").value,
                      shared_with: share, definition: definition()}).then(function (body) {
      if (body.error) { document.getElementById("cb-save-problem").textContent = body.error; return; }
      window.location.href = body.url;
    });
  });
  render(); preview();
})();
