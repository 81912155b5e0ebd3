// Import wizard: show "new attribute" inputs only where chosen; poll a running import.
(function () {
  "use strict";
  function syncRow(row) {
    var choice = row.querySelector(".js-map-choice");
    var isNew = choice && choice.value === "new";
    row.querySelectorAll(".js-new-field").forEach(function (el) {
      el.disabled = !isNew;
      el.hidden = !isNew;
    });
  }
  document.querySelectorAll(".js-map-row").forEach(function (row) {
    syncRow(row);
    var choice = row.querySelector(".js-map-choice");
    if (choice) choice.addEventListener("change", function () { syncRow(row); });
  });
  var resubmit = document.querySelector(".js-resubmit");
  if (resubmit) resubmit.addEventListener("change", function () { resubmit.form.submit(); });

  var box = document.getElementById("import-progress");
  if (!box) return;
  var bar = document.getElementById("import-bar");
  var stage = document.getElementById("import-stage");
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        bar.value = data.progress.fraction;
        stage.textContent = data.progress.stage + " · " + data.progress.rows + " rows read";
        if (["queued", "running"].indexOf(data.status) === -1) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 700);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 500);
})();
