// cardbase administration: the live count beside the rule view's filter builder, and the
// "new rule view on" chooser. The builder itself is the lists' (static/js/lists.js): a
// hidden submit button asks it to write the condition, and the count is fetched instead
// of submitting.
(function () {
  "use strict";

  function liveCount(form) {
    var url = form.getAttribute("data-count-url");
    var out = document.getElementById("cb-live-count");
    var trigger = document.getElementById("cb-live-count-submit");
    var hidden = document.getElementById("cb-filter-value");
    if (!url || !out || !trigger || !hidden || !window.fetch || !form.requestSubmit) { return; }
    var timer = null;
    form.addEventListener("submit", function (ev) {
      if (ev.submitter !== trigger) { return; }
      var refused = ev.defaultPrevented;  // the builder found a condition without its value
      ev.preventDefault();  // otherwise it has written the condition into the hidden input
      if (refused) { return; }
      if (!hidden.value) { out.textContent = ""; return; }
      fetch(url + "?filter=" + encodeURIComponent(hidden.value), {credentials: "same-origin"})
        .then(function (resp) { return resp.json(); })
        .then(function (data) {
          out.textContent = data.error ? data.error
            : form.getAttribute("data-count-text").replace("{n}", data.count + (data.estimated ? "+" : ""));
          out.classList.toggle("text-danger", Boolean(data.error));
        })
        .catch(function () { out.textContent = ""; });
    });
    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { form.requestSubmit(trigger); }, 400);
    }
    var box = document.getElementById("cb-filter-box");
    box.addEventListener("change", schedule);
    box.addEventListener("input", schedule);
    box.addEventListener("click", function (ev) { if (ev.target.closest("button")) { schedule(); } });
    schedule();
  }

  function newRuleView() {
    var chooser = document.querySelector("[data-rule-view-new]");
    var link = document.getElementById("cb-rule-view-create");
    if (!chooser || !link) { return; }
    chooser.addEventListener("change", function () { link.href = chooser.value; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("cb-filter-form");
    if (form && form.hasAttribute("data-count-url")) { liveCount(form); }
    newRuleView();
  });
})();
