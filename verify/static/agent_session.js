// Agent console, a session's page: count down to the code's expiry and keep the status up to date by
// asking the dashboard's JSON endpoint every few seconds. The page works without it (times are shown,
// and a Refresh link reloads it); it stops once the session is over.
(function () {
  "use strict";
  var FINAL = { ended: true, expired: true };
  var EVERY_MS = 2000;
  var status = document.getElementById("status");
  var countdown = document.querySelector(".countdown");
  var checks = document.getElementById("checks");
  var current = status ? status.getAttribute("data-status") : null;

  function tick() {
    if (!countdown) return;
    var expires = parseInt(countdown.getAttribute("data-expires"), 10) * 1000;
    var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    var time = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    countdown.textContent = countdown.getAttribute("data-left").replace("{time}", time);
    if (left > 0 && !FINAL[current]) setTimeout(tick, 1000);
  }

  function show(state) {
    if (state.status !== current) {
      current = state.status;
      status.setAttribute("data-status", current);
      status.className = "status-" + current;
      status.querySelector("strong").textContent = state.name || current;
      status.querySelector(".label").textContent = state.label;
      document.body.setAttribute("data-session-status", current);
    }
    if (checks && !state.gone) {
      checks.textContent = checks.getAttribute("data-template")
        .replace("{ok}", state.successful_checks).replace("{failed}", state.failed_checks);
    }
    if (FINAL[current]) {
      var code = document.querySelector(".code");
      if (code) code.classList.add("spent");
      if (countdown) countdown.textContent = "";
    }
  }

  function poll() {
    fetch(status.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 404) return { status: "ended", label: status.getAttribute("data-gone"), gone: true };
        if (!response.ok || response.headers.get("Content-Type").indexOf("application/json") !== 0) throw new Error("no status");
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (!FINAL[current]) setTimeout(poll, EVERY_MS);
      })
      .catch(function () { setTimeout(poll, EVERY_MS * 5); });  // logged out or offline: ask less often
  }

  tick();
  if (status && !FINAL[current]) setTimeout(poll, EVERY_MS);
})();
