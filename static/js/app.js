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

  // A form sent once: its submit buttons wait (正在提交…) until the answer comes, so that a second tap
  // on a slow network sends nothing (the server stores one record anyway: blueprints/core/once.py).
  // Boosted and hx-post forms are htmx's requests; a form htmx leaves alone (hx-boost="false") is the
  // browser's. Offline forms (static/js/outbox/) send through the outbox and are left to it.
  var WAITING = "正在提交…";

  function holdButtons(form) {
    Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]'), function (button) {
      if (button.disabled) return;
      button.disabled = true;
      button.dataset.waiting = button.tagName === "INPUT" ? button.value : button.textContent;
      if (button.tagName === "INPUT") button.value = WAITING; else button.textContent = WAITING;
    });
  }

  function releaseButtons(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-waiting]"), function (button) {
      if (button.tagName === "INPUT") button.value = button.dataset.waiting; else button.textContent = button.dataset.waiting;
      delete button.dataset.waiting;
      button.disabled = false;
    });
  }

  function isSending(form) {
    return form && form.tagName === "FORM" && (form.getAttribute("method") || "get").toLowerCase() === "post";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (isSending(form) && event.detail.requestConfig && event.detail.requestConfig.verb !== "get") holdButtons(form);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && form.tagName === "FORM" && document.body.contains(form)) releaseButtons(form); // a page not replaced: tap again
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // prevented: htmx or the outbox sends it. Later, so that the tapped button's own name is still sent.
    if (!event.defaultPrevented && isSending(form)) setTimeout(function () { holdButtons(form); }, 0);
  });

  // Back to a page from the back-forward cache: its buttons work again (a repeat is still refused by the server).
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) releaseButtons(document);
  });

  window.addEventListener("offline", function () { document.body.classList.add("is-offline"); });
  window.addEventListener("online", function () { document.body.classList.remove("is-offline"); });
})();
