// The window of a picker's "+ New": hand the created record to the card that opened it
// (same origin only) and close. cardbase/platform/web/pick_new.py
(function () {
  "use strict";
  var el = document.getElementById("cb-picked-data");
  if (!el || !window.opener || window.opener.closed) { return; }
  try {
    window.opener.postMessage(JSON.parse(el.textContent), window.location.origin);
    window.close();
  } catch (e) { /* the page itself says what was created */ }
})();
