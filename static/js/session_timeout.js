// The idle-session warning (backfill_portal/sessions.py): a signed-in page shows a notice shortly before the session
// ends, with a button that keeps it alive; when it has ended, the page says so and offers the login page.
// Settings come from the script tag's data attributes (no inline script: the Content-Security-Policy forbids it).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var idleSeconds = parseInt(script.dataset.idleSeconds, 10);
  var warningSeconds = parseInt(script.dataset.warningSeconds, 10);
  var loginUrl = script.dataset.loginUrl;
  if (!(idleSeconds > 0) || !(warningSeconds > 0)) return;

  var banner = null;
  var warnTimer = null;
  var endTimer = null;

  function show(text, buttonText, onClick) {
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "session-timeout-warning";
      banner.className = "session-warning";
      banner.setAttribute("role", "alert");
      document.body.appendChild(banner);
    }
    banner.textContent = text + " ";
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = buttonText;
    button.addEventListener("click", onClick);
    banner.appendChild(button);
  }

  function hide() {
    if (banner) {
      banner.remove();
      banner = null;
    }
  }

  function keepAlive() {
    // Any signed-in page pushes the session's expiry back (the server does it at most once a minute).
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.ok && !response.redirected) {
        hide();
        start();
      } else {
        ended();
      }
    }, ended);
  }

  function ended() {
    show("由于长时间未操作，您已退出登录。", "重新登录", function () {
      window.location.href = loginUrl;
    });
  }

  function start() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    var warnAfter = Math.max(idleSeconds - warningSeconds, 0);
    warnTimer = setTimeout(function () {
      var minutes = Math.max(Math.round(warningSeconds / 60), 1);
      show("您已较长时间未操作，登录将在约" + minutes + "分钟后失效。", "继续使用", keepAlive);
    }, warnAfter * 1000);
    endTimer = setTimeout(ended, idleSeconds * 1000);
  }

  start();
})();
