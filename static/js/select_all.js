// The record list's "全选本页" box in the table's header: ticks or clears every record of the page. "全选符合条件的
// 项目" (all pages) is a form field the server reads (projects.views.project_selected) and works without this.
(function () {
  "use strict";
  var form = document.getElementById("selected-form");
  var pageBox = document.getElementById("select-page");
  if (!form || !pageBox) {
    return;
  }
  var boxes = form.querySelectorAll('input[name="selected"]');
  var matching = document.getElementById("select-all-matching");
  pageBox.hidden = boxes.length === 0;
  pageBox.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = pageBox.checked; });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      pageBox.checked = Array.prototype.every.call(boxes, function (each) { return each.checked; });
      if (!box.checked && matching) {
        matching.checked = false;
      }
    });
  });
  if (matching) {
    matching.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = matching.checked; });
      pageBox.checked = matching.checked;
    });
  }
})();
