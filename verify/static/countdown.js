// Agent console: count down to the code's expiry. The page works without it (the time is shown).
(function () {
  var el = document.querySelector(".countdown");
  if (!el) return;
  var expires = parseInt(el.getAttribute("data-expires"), 10) * 1000;
  function tick() {
    var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    el.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + " left";
    if (left > 0) setTimeout(tick, 1000);
  }
  tick();
})();
