// Live refresh for the inspector: every element with data-refresh="URL" is re-rendered from
// that URL every few seconds (the server renders and escapes it; this only swaps it in).
// The pages work without this file; it adds a "live" switch where a page has data-live-toggle.
(function () {
  "use strict";
  var PERIOD_MS = 2000;
  var targets = document.querySelectorAll("[data-refresh]");
  var places = document.querySelectorAll("[data-live-toggle]");
  if (!targets.length || !places.length) {
    return;
  }
  var toggle = document.createElement("input");
  toggle.type = "checkbox";
  toggle.checked = true;
  toggle.id = "live-refresh";
  var label = document.createElement("label");
  label.htmlFor = toggle.id;
  label.appendChild(toggle);
  label.appendChild(document.createTextNode(" live"));
  places[0].appendChild(label);

  var busy = false;
  function refresh() {
    if (busy || !toggle.checked || document.hidden) {
      return;
    }
    busy = true;
    var jobs = Array.prototype.map.call(targets, function (element) {
      return fetch(element.getAttribute("data-refresh"), {
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Accept": "text/html" }
      }).then(function (response) {
        if (response.status === 401) {
          toggle.checked = false;
          label.lastChild.textContent = " live (session expired: reload to log in)";
          return;
        }
        if (response.ok) {
          return response.text().then(function (html) {
            element.innerHTML = html;
          });
        }
      });
    });
    Promise.all(jobs).catch(function () {}).then(function () {
      busy = false;
    });
  }
  window.setInterval(refresh, PERIOD_MS);
})();
