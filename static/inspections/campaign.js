// The spot-check pages (templates/inspections/campaign_form.html, campaign_detail.html). No inline script (CSP).
// - each group of authorities (区, 县, 开发区) gets a select-all box, shown only when this script runs;
// - the form shows, live, how many records its conditions match (inspections:matching, JSON), so a campaign that
//   would draw nothing is seen before it is created;
// - the draw button works once: a second click while the first is on its way sends nothing (the server refuses a
//   second draw anyway, and audits it).
(function () {
  "use strict";

  function boxesOf(group) {
    return Array.prototype.slice.call(group.querySelectorAll('input[type="checkbox"][name="authorities"]'));
  }

  function syncSelectAll(group, selectAll) {
    var boxes = boxesOf(group);
    var checked = boxes.filter(function (box) { return box.checked; }).length;
    selectAll.checked = checked === boxes.length && checked > 0;
    selectAll.indeterminate = checked > 0 && checked < boxes.length;
  }

  Array.prototype.forEach.call(document.querySelectorAll(".authority-group"), function (group) {
    var selectAll = group.querySelector("input[data-select-all]");
    if (!selectAll) {
      return;
    }
    selectAll.closest("label").hidden = false;
    selectAll.addEventListener("change", function () {
      boxesOf(group).forEach(function (box) { box.checked = selectAll.checked; });
      selectAll.indeterminate = false;
      group.dispatchEvent(new Event("authorities-changed", { bubbles: true }));
    });
    boxesOf(group).forEach(function (box) {
      box.addEventListener("change", function () { syncSelectAll(group, selectAll); });
    });
    syncSelectAll(group, selectAll);
  });

  var matching = document.getElementById("matching");
  var form = document.getElementById("campaign-form");
  if (matching && form && matching.dataset.url) {
    var timer = null;
    var asked = 0;
    var count = function () {
      var params = new URLSearchParams();
      Array.prototype.forEach.call(form.querySelectorAll('input[name="authorities"]:checked'), function (box) {
        params.append("authorities", box.value);
      });
      ["period_start", "period_end"].forEach(function (name) {
        var input = form.querySelector('[name="' + name + '"]');
        if (input && input.value) {
          params.append(name, input.value);
        }
      });
      var ask = ++asked;
      fetch(matching.dataset.url + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (ask !== asked) {
            return; // an older answer arriving late
          }
          matching.textContent = answer.text;
          matching.dataset.count = answer.count === null ? "" : String(answer.count);
          matching.classList.toggle("none", answer.count === 0);
        })
        .catch(function () {
          matching.textContent = "暂时无法统计符合条件的记录数，创建后可在任务页查看。";
        });
    };
    var later = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(count, 250);
    };
    form.addEventListener("change", later);
    form.addEventListener("input", later);
    form.addEventListener("authorities-changed", later);
    count();
  }

  var drawForm = document.getElementById("draw-form");
  if (drawForm) {
    drawForm.addEventListener("submit", function (event) {
      if (drawForm.dataset.sent === "1") {
        event.preventDefault();
        return;
      }
      drawForm.dataset.sent = "1";
      var button = drawForm.querySelector('button[type="submit"]');
      // Disabled after this tick, so that the click that submits still sends the form.
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = "正在抽取…";
      }, 0);
    });
  }
})();
