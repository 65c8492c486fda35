// The report queue: a box that selects every report on the page for a bulk change. Without JavaScript
// it stays hidden and each report's own box still works.
(function () {
  "use strict";
  var all = document.getElementById("pick-all");
  var boxes = document.querySelectorAll('table.queue input[name="report"]');
  if (!all || !boxes.length) return;
  all.closest("label").hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
})();
