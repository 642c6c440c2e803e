// The import job's page: polls the job's status while it runs and updates the bar and the figures.
(function () {
  "use strict";
  var box = document.getElementById("cb-import-job");
  if (!box) { return; }
  var states = JSON.parse(box.getAttribute("data-states") || "{}");
  function set(id, text) { var el = document.getElementById(id); if (el) { el.textContent = text; } }
  function poll() {
    fetch(box.getAttribute("data-status-url"), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var p = s.progress || {};
        var percent = p.percent != null ? p.percent : (s.state === "done" ? 100 : 0);
        document.getElementById("cb-import-bar").style.width = percent + "%";
        set("cb-import-state", states[s.state] || s.state);
        set("cb-import-rows", p.rows_done + (p.rows_total ? " / " + p.rows_total : ""));
        set("cb-import-rate", p.rate == null ? "" : p.rate);
        set("cb-import-left", p.seconds_left == null ? "" : p.seconds_left);
        ["created", "updated", "skipped", "failed"].forEach(function (k) { set("cb-import-" + k, s[k]); });
        if (s.state === "queued" || s.state === "running") { window.setTimeout(poll, 1000); }
        else if (box.getAttribute("data-state") !== s.state) { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  if (box.getAttribute("data-state") === "queued" || box.getAttribute("data-state") === "running") { poll(); }
})();
