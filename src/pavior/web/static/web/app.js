// Small progressive enhancements; every page works without them (CSP: no inline JS).
(function () {
  "use strict";

  function openDialog(dialog) {
    if (dialog && !dialog.open) dialog.showModal();
  }

  function syncFilterRow(attrSelect) {
    var row = attrSelect.closest(".cond");
    var opSelect = row.querySelector(".js-filter-op");
    var valueInput = row.querySelector(".js-filter-value");
    var chosen = attrSelect.selectedOptions[0];
    var type = chosen ? chosen.dataset.type : "";
    // Offer only the operators of the attribute's type (SPEC §8).
    var firstVisible = null, selectedVisible = false;
    opSelect.querySelectorAll("optgroup").forEach(function (group) {
      var match = !type || group.dataset.type === type;
      group.hidden = !match;
      group.disabled = !match;
      if (match) {
        group.querySelectorAll("option").forEach(function (o) {
          if (!firstVisible) firstVisible = o;
          if (o.selected) selectedVisible = true;
        });
      }
    });
    if (!selectedVisible && firstVisible) firstVisible.selected = true;
    syncValue(opSelect, valueInput);
  }

  function syncValue(opSelect, valueInput) {
    var noValue = (valueInput.dataset.noValue || "").split(" ");
    var hide = noValue.indexOf(opSelect.value) !== -1;
    valueInput.hidden = hide;
    valueInput.disabled = hide;
  }

  function init(root) {
    root.querySelectorAll(".js-autosubmit").forEach(function (el) {
      if (el.dataset.bound) return;
      el.dataset.bound = "1";
      el.addEventListener("change", function () {
        if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
      });
    });
    root.querySelectorAll(".js-hide-when-scripted").forEach(function (el) { el.hidden = true; });
    root.querySelectorAll("[data-dialog-open]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        openDialog(document.getElementById(btn.dataset.dialogOpen));
      });
    });
    root.querySelectorAll("[data-dialog-close]").forEach(function (btn) {
      btn.addEventListener("click", function () { btn.closest("dialog").close(); });
    });
    root.querySelectorAll("dialog[data-open-on-load]").forEach(openDialog);
    if (location.hash === "#columns") openDialog(document.getElementById("columns-dialog"));
    root.querySelectorAll(".js-filter-attr").forEach(function (sel) {
      syncFilterRow(sel);
      sel.addEventListener("change", function () { syncFilterRow(sel); });
      var row = sel.closest(".cond");
      var op = row.querySelector(".js-filter-op");
      op.addEventListener("change", function () { syncValue(op, row.querySelector(".js-filter-value")); });
    });
    root.querySelectorAll("[data-copy-target]").forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var text = document.getElementById(btn.dataset.copyTarget).textContent;
        navigator.clipboard.writeText(text).then(function () {
          var label = btn.textContent;
          btn.textContent = "Copied";
          setTimeout(function () { btn.textContent = label; }, 1500);
        });
      });
    });
    root.querySelectorAll("[data-confirm-name]").forEach(function (input) {
      var button = input.form.querySelector("[data-confirm-button]");
      function check() { button.disabled = input.value !== input.dataset.confirmName; }
      input.addEventListener("input", check);
      check();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
