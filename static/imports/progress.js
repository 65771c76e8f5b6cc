// The import's progress bar: polls the job's status (JSON) and moves the bar without reloading the page; when the
// job ends, the page is loaded once more to show the row-by-row results (docs/import.md). No inline script (CSP).
(function () {
  "use strict";
  var section = document.getElementById("import-progress");
  if (!section || section.dataset.finished === "1") {
    return;
  }
  var url = section.dataset.statusUrl;
  function show(state) {
    document.getElementById("import-status").textContent = state.status_label;
    document.getElementById("import-processed").textContent = state.processed;
    document.getElementById("import-total").textContent = state.total;
    var bar = document.getElementById("import-bar");
    bar.value = state.percent;
    bar.textContent = state.percent + "%";
    document.getElementById("import-percent").textContent = state.percent + "%";
    document.getElementById("import-summary").textContent = state.message;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        show(state);
        if (state.finished) {
          document.getElementById("import-reload").hidden = false;
          window.location.reload();
        } else {
          window.setTimeout(poll, 700);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 300);
})();
