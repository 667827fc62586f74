/* 关爱通 page script: service worker registration and what htmx needs when the network fails.
 * No build step; plain ES2017 that the phones' browsers (WeChat's included) run. */
(function () {
  "use strict";

  // The service worker is an extra, not a requirement: some in-app browsers run none.
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      var url = document.body.dataset.sw || "/sw.js";
      navigator.serviceWorker.register(url, { scope: "/" }).catch(function () { /* offline reloads just won't work */ });
    });
  }

  function showNotice(text) {
    var box = document.getElementById("net-notice");
    if (!box) {
      box = document.createElement("p");
      box.id = "net-notice";
      box.className = "flash flash-error net-notice";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  document.addEventListener("htmx:sendError", function (event) {
    // A boosted link that cannot reach the server: load it as a real page, so that the service
    // worker can show the offline page instead of leaving the old page looking live.
    var detail = event.detail || {};
    if (detail.boosted && detail.pathInfo && detail.requestConfig && detail.requestConfig.verb === "get") {
      window.location.assign(detail.pathInfo.requestPath);
      return;
    }
    showNotice("没有网络，刚才的操作没有完成。请在网络恢复后重试。");
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 500) showNotice("系统暂时出错，刚才的操作没有保存。请稍后再试。");
  });

  // A boosted page load swaps the body's content, not the body's attributes nor the head (htmx 2).
  // After a boosted sign-in the body would keep the login page's CSRF header (no longer valid: the
  // session is renewed at sign-in) and lack data-user and data-login-url, which static/js/outbox/ reads.
  // Copy them, and the CSRF meta tag, from the page that came.
  var BODY_ATTRIBUTES = ["hx-headers", "data-user", "data-login-url", "data-sw"];
  document.addEventListener("htmx:afterSwap", function (event) {
    var detail = event.detail || {};
    var text = detail.boosted && detail.xhr ? detail.xhr.responseText : null;
    var tag = typeof text === "string" ? /<body\b[^>]*>/i.exec(text) : null;
    if (!tag) return;
    var probe = document.createElement("template"); // inert: htmx does not process it
    probe.innerHTML = tag[0].replace(/^<body/i, "<div") + "</div>";
    var fresh = probe.content.firstElementChild;
    if (!fresh) return;
    BODY_ATTRIBUTES.forEach(function (name) {
      if (fresh.hasAttribute(name)) document.body.setAttribute(name, fresh.getAttribute(name));
      else document.body.removeAttribute(name);
    });
    var meta = /<meta name="csrf-token" content="([^"]*)">/.exec(text);
    var current = document.querySelector('meta[name="csrf-token"]');
    if (meta && current) current.setAttribute("content", meta[1]);
  });

  window.addEventListener("offline", function () { document.body.classList.add("is-offline"); });
  window.addEventListener("online", function () { document.body.classList.remove("is-offline"); });
})();
