// The formula editor: insert fields and functions at the cursor, check the formula as it
// is typed (POST to the form's data-check-url with the CSRF header), mark the error at its
// character position, and show the value computed on the chosen record.
(function () {
  "use strict";

  function insertAt(area, text, caretBack) {
    var start = area.selectionStart, end = area.selectionEnd;
    area.value = area.value.substring(0, start) + text + area.value.substring(end);
    var pos = start + text.length - (caretBack || 0);
    area.focus();
    area.setSelectionRange(pos, pos);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function markError(mark, text, position) {
    mark.textContent = "";
    if (position === null || position === undefined) { mark.hidden = true; return; }
    var at = Math.max(0, Math.min(position, text.length));
    var marked = document.createElement("mark");
    marked.className = "cb-formula-error";
    marked.textContent = text.charAt(at) && text.charAt(at) !== "\n" ? text.charAt(at) : " ";
    mark.appendChild(document.createTextNode(text.substring(0, at)));
    mark.appendChild(marked);
    mark.appendChild(document.createTextNode(text.substring(at + (text.charAt(at) && text.charAt(at) !== "\n" ? 1 : 0))));
    mark.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("cb-field-form");
    var area = document.getElementById("opt-formula-formula");
    if (!form || !area) { return; }
    var status = document.getElementById("cb-formula-status");
    var previewBox = document.getElementById("cb-formula-preview");
    var mark = document.getElementById("cb-formula-mark");
    var record = document.getElementById("cb-formula-record");
    var scale = document.getElementById("opt-formula-scale");
    var typeSelect = form.querySelector("[data-type-select]");
    var timer = null, seq = 0;
    var t = JSON.parse(document.getElementById("cb-formula-texts").textContent);

    function show(result, text) {
      status.textContent = "";
      previewBox.textContent = "";
      status.className = "cb-formula-status mt-2";
      if (!result.ok) {
        area.classList.add("is-invalid");
        status.classList.add("text-danger");
        var where = result.line ? t.at.replace("{line}", result.line).replace("{column}", result.column) + " " : "";
        status.textContent = where + result.message;
        status.setAttribute("data-position", result.position === null || result.position === undefined ? "" : result.position);
        markError(mark, text, result.position);
        return;
      }
      area.classList.remove("is-invalid");
      status.classList.add("text-success");
      status.removeAttribute("data-position");
      status.textContent = result.message + " " + t.result.replace("{type}", result.result_label);
      markError(mark, text, null);
      var p = result.preview || {};
      if (p.ok) {
        var label = document.createElement("span");
        label.textContent = t.preview.replace("{record}", p.code || ("#" + p.record)) + " ";
        var value = document.createElement("strong");
        value.className = "cb-preview-value";
        value.textContent = p.empty ? t.empty : p.value;
        previewBox.appendChild(label);
        previewBox.appendChild(value);
      } else if (p.message) {
        previewBox.textContent = p.message;
      }
    }

    function check() {
      if (typeSelect && typeSelect.value !== "formula") { return; }
      var text = area.value;
      var mine = ++seq;
      if (!text.trim()) { status.textContent = ""; previewBox.textContent = ""; markError(mark, "", null); area.classList.remove("is-invalid"); return; }
      fetch(form.getAttribute("data-check-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": window.cardbase.csrfToken() },
        body: JSON.stringify({ formula: text, field: form.getAttribute("data-field") || null,
                               scale: scale && scale.value !== "" ? scale.value : null,
                               record: record && record.value ? record.value : null })
      }).then(function (response) { return response.json(); })
        .then(function (result) { if (mine === seq) { show(result, text); } })
        .catch(function () { if (mine === seq) { status.textContent = t.failed; } });
    }
    function later() { clearTimeout(timer); timer = setTimeout(check, 300); }

    area.addEventListener("input", later);
    if (scale) { scale.addEventListener("input", later); }
    if (record) { record.addEventListener("change", check); }
    document.addEventListener("cardbase:field-type", function (ev) { if (ev.detail === "formula") { check(); } });

    var picker = document.getElementById("cb-formula-picker");
    document.getElementById("cb-formula-insert").addEventListener("click", function () {
      if (picker.value) { insertAt(area, picker.value); }
    });
    document.querySelectorAll(".cb-insert-function").forEach(function (button) {
      button.addEventListener("click", function () { insertAt(area, button.getAttribute("data-insert"), 1); });
    });
    var filter = document.getElementById("cb-function-filter");
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      document.querySelectorAll("#cb-function-list .cb-function").forEach(function (item) {
        item.hidden = q !== "" && item.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
    if (area.value.trim()) { check(); }
  });
})();
