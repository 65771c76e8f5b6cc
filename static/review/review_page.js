// The review page (templates/admin/projects/project/change_form.html): return comments attached by choosing a
// field, PDF previews opened beside their stage. A static file, no inline script (a Content-Security-Policy is
// planned); the page works without it (one comment row, links to each file).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var list = document.getElementById("field-comments");
  var counter = 0;

  function addComment(target, label) {
    counter += 1;
    var id = "field-comment-" + counter;
    var item = document.createElement("div");
    item.className = "field-comment";
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "comment_target";
    hidden.value = target;
    var caption = document.createElement("label");
    caption.htmlFor = id;
    caption.textContent = "意见：" + label;
    var text = document.createElement("textarea");
    text.name = "comment_text";
    text.id = id;
    text.rows = 2;
    text.required = true;
    text.maxLength = 2000;
    var remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "移除此条";
    remove.setAttribute("aria-label", "移除对“" + label + "”的意见");
    remove.addEventListener("click", function () {
      item.remove();
    });
    item.append(hidden, caption, text, remove);
    list.appendChild(item);
    text.focus();
  }

  if (list) {
    document.querySelectorAll("button.comment-on").forEach(function (button) {
      button.addEventListener("click", function () {
        addComment(button.dataset.target, button.dataset.label);
      });
    });
  }

  // A PDF is fetched only when its preview is opened (a stage may hold a dozen files).
  document.querySelectorAll("details.evidence-preview").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (!details.open || details.querySelector("object")) {
        return;
      }
      var preview = document.createElement("object");
      preview.type = "application/pdf";
      preview.data = details.dataset.src;
      preview.setAttribute("aria-label", details.dataset.title + "（预览）");
      var fallback = document.createElement("a");
      fallback.href = details.dataset.src;
      fallback.target = "_blank";
      fallback.rel = "noopener";
      fallback.textContent = "浏览器无法在此显示，点此在新窗口打开";
      preview.appendChild(fallback);
      details.appendChild(preview);
    });
  });
});
