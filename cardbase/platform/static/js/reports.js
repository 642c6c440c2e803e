/* Report page: draws the pivot and the plotly chart from the page's JSON, re-runs the
   report when a live filter changes (no page reload), and opens the drill-down list of a
   clicked chart point. Values come in as text and go into the DOM as text only. */
(function () {
  "use strict";
  var textsNode = document.getElementById("cb-report-texts");
  var texts = textsNode ? JSON.parse(textsNode.textContent) : {total: "Total"};
  var chart = document.getElementById("cb-chart");
  var table = document.getElementById("cb-pivot");
  var dataNode = document.getElementById("cb-report-data");
  var current = dataNode ? JSON.parse(dataNode.textContent) : null;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function link(text, url) {
    var a = el("a", text); a.href = url; return a;
  }
  // A figure cell: measures apart by " / ", a money figure's currencies by " · "; each
  // amount is one unbreakable span, so a narrow pivot wraps between amounts, never inside.
  function figureCell(tag, item) {
    var td = el(tag, null, "num"), a = link(null, item.url);
    var measures = (item.parts || item.texts.map(function (t) { return [t]; }))
      .filter(function (pieces) { return pieces.length && pieces.join("") !== ""; });
    if (!measures.length) { a.appendChild(el("span", "0", "cb-figure")); }
    measures.forEach(function (pieces, i) {
      if (i) { a.appendChild(document.createTextNode("\u00a0/ ")); }  // a line may break after a separator,
      pieces.forEach(function (piece, j) {                             // never before one
        if (j) { a.appendChild(document.createTextNode("\u00a0· ")); }
        a.appendChild(el("span", piece, "cb-figure"));
      });
    });
    td.appendChild(a);
    return td;
  }
  function eachMeasure(item, url) {  // one cell per measure (a pivot without column groups)
    return item.texts.map(function (t, k) { return {texts: [t], parts: item.parts ? [item.parts[k]] : undefined, url: url}; });
  }
  function drawPivot(data) {
    table.textContent = "";
    var head = el("thead"), tr = el("tr");
    tr.appendChild(el("th", data.row_title));
    data.columns.forEach(function (c) { var th = el("th", null, "num"); th.appendChild(link(c.label, c.url)); tr.appendChild(th); });
    if (!data.columns.length) { data.measures.forEach(function (m) { tr.appendChild(el("th", m, "num")); }); }
    else if (data.totals) { tr.appendChild(el("th", texts.total, "num")); }
    head.appendChild(tr); table.appendChild(head);
    var body = el("tbody");
    data.rows.forEach(function (r, i) {
      var row = el("tr"), th = el("th");
      th.appendChild(link(r.label, r.url)); row.appendChild(th);
      if (data.columns.length) {
        data.cells[i].forEach(function (cell) { row.appendChild(figureCell("td", cell)); });
        if (data.totals) { row.appendChild(figureCell("td", r)); }
      } else {
        eachMeasure(r, r.url).forEach(function (m) { row.appendChild(figureCell("td", m)); });
      }
      body.appendChild(row);
    });
    if (data.totals) {
      var total = el("tr", null, "fw-bold"); total.appendChild(el("th", texts.total));
      if (data.columns.length) {
        data.columns.forEach(function (c) { total.appendChild(figureCell("td", c)); });
        total.appendChild(figureCell("td", data.total));
      } else {
        eachMeasure(data.total, data.total.url).forEach(function (m) { total.appendChild(figureCell("td", m)); });
      }
      body.appendChild(total);
    }
    table.appendChild(body);
    var empty = document.getElementById("cb-report-empty");
    if (empty) { empty.classList.toggle("d-none", !data.empty); }
    var problem = document.getElementById("cb-report-problem");
    problem.textContent = data.problems.join(" ");
    problem.classList.toggle("d-none", !data.problems.length);
  }
  function drillUrl(point) {
    var custom = point.customdata, data = current;
    if (!custom) { return data.total.url; }
    var i = custom[0], j = custom[1];
    if (i >= 0 && j >= 0) { return data.cells[i][j].url; }
    if (i >= 0) { return data.rows[i].url; }
    if (j >= 0) { return data.columns[j].url; }
    return data.total.url;
  }
  function drawChart(data) {
    var title = document.getElementById("cb-report-title");
    var config = {responsive: true, displaylogo: false,
                  locale: document.documentElement.lang || "en",
                  toImageButtonOptions: {format: "png", filename: title ? (title.textContent || title.value || "report").trim() : "report"}};
    window.Plotly.react(chart, data.figure.data, data.figure.layout, config);
    if (!chart.dataset.clicks) {
      chart.dataset.clicks = "1";
      chart.on("plotly_click", function (event) {
        if (event.points && event.points.length) { window.location.href = drillUrl(event.points[0]); }
      });
    }
  }
  function draw(data) { current = data; drawPivot(data); drawChart(data); }
  window.cardbaseReport = {draw: draw};  // the report designer's live preview draws with it
  if (!current) { return; }
  draw(current);

  var form = document.getElementById("cb-live-filters");
  if (form) {
    form.addEventListener("change", function () {
      var query = new URLSearchParams(new FormData(form)).toString();
      fetch(form.dataset.url + "?" + query, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (body.error) {
            var problem = document.getElementById("cb-report-problem");
            problem.textContent = body.error; problem.classList.remove("d-none"); return;
          }
          draw(body.data);
          history.replaceState(null, "", window.location.pathname + "?" + query);
          ["cb-export-csv", "cb-export-xlsx"].forEach(function (id) {
            var a = document.getElementById(id); a.href = a.href.split("?")[0] + "?" + query;
          });
        });
    });
  }
})();
