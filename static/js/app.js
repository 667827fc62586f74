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

  // The page's session (templates/base.html #session, inside <body>, so a boosted navigation
  // brings a fresh one): the signed-in user, the login page, the CSRF token. outbox.js reads it here.
  function sessionData() {
    var element = document.getElementById("session");
    return element ? element.dataset : {};
  }
  window.GuanaiSession = {
    user: function () { return sessionData().user || ""; },
    loginUrl: function () { return sessionData().loginUrl || "/login"; },
    csrf: function () { return sessionData().csrf || ""; }
  };

  // Every htmx request that changes something carries the current page's CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail || {};
    var token = window.GuanaiSession.csrf();
    if (token && detail.headers && String(detail.verb).toLowerCase() !== "get") detail.headers["X-CSRFToken"] = token;
  });

  // The one message region (#messages in base.html): notices float at the bottom of a phone's
  // screen, where the user is, and go after a while or on a tap.
  function messageRegion() {
    var region = document.getElementById("messages");
    if (!region) {
      region = document.createElement("div");
      region.id = "messages";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    return region;
  }

  function fadeNotices(region) {
    clearTimeout(region._timer);
    region._timer = setTimeout(function () {
      Array.prototype.forEach.call(region.querySelectorAll(".notice"), function (el) { el.remove(); });
    }, 8000);
  }

  function showNotice(text) {
    var region = messageRegion();
    var box = document.createElement("p");
    box.className = "flash flash-error notice";
    box.setAttribute("role", "alert");
    box.textContent = text;
    region.innerHTML = "";
    region.appendChild(box);
    fadeNotices(region);
  }

  document.addEventListener("click", function (event) {
    var notice = event.target.closest && event.target.closest("#messages .notice");
    if (notice) notice.remove();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "messages") fadeNotices(target);
  });

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
    // An error answer the server did not send to #messages itself (not a fragment's): say so there.
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status >= 500 && !xhr.getResponseHeader("HX-Retarget")) {
      showNotice("系统暂时出错，刚才的操作没有保存。请稍后再试。");
    }
  });

  window.addEventListener("offline", function () { document.body.classList.add("is-offline"); });
  window.addEventListener("online", function () { document.body.classList.remove("is-offline"); });
})();
