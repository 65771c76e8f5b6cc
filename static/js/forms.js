// The enterprise's forms: an error summary takes the focus (the page lands on what went wrong), and leaving a
// form with unsaved changes asks first. A static file: the pages carry no inline script (CSP).
(function () {
  "use strict";
  var summary = document.getElementById("error-summary") || document.getElementById("upload-error");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
    summary.scrollIntoView({ block: "center" });
  }
  var forms = document.querySelectorAll("form[data-unsaved-warning]");
  var dirty = false;
  var submitting = false;
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { submitting = true; });
  });
  // The other forms of the page (delete a file) also leave it: they ask too when something is unsaved.
  Array.prototype.forEach.call(document.querySelectorAll("form:not([data-unsaved-warning])"), function (form) {
    form.addEventListener("submit", function (event) {
      if (dirty && !window.confirm("本页有尚未保存的修改，离开将丢失。确定继续吗？")) {
        event.preventDefault();
      } else {
        submitting = true;
      }
    });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
