/* 关爱通 offline outbox, 5/5: the bar, the outbox page, logout, the notice when the server ended
 * the session, and the start of it all (see store.js for how the files fit).
 *
 * The bar (base.html, [data-outbox-bar]) counts this user's items and says why they wait; the
 * outbox page (/outbox, [data-outbox-list]) lists every item on this phone with what the server
 * said (a rejected item, a 409's message included, stays until fixed or deleted). */
(function (G) {
  "use strict";

  var LOGOUT_QUESTION = "还有 {n} 条记录没有上传，退出后会从这部手机上删除。确定退出吗？";
  var SESSION_ENDED = "登录已过期。为保护儿童信息，已清除本机缓存的名单和页面";
  var UNSENT_KEPT = "；还有 {n} 条记录未发送，重新登录后会自动发送。";
  var util = G.util;
  var store = G.store;
  var sync = G.sync;
  var outbox = store.outbox;
  var element = util.element;

  function refresh() {
    if (store.failed) return Promise.resolve();
    return outbox.all().then(function (items) {
      renderBar(items);
      renderList(items);
    }).catch(util.noop);
  }

  function loginLink(text) {
    var link = element("a", null, text);
    var base = window.GuanaiSession ? window.GuanaiSession.loginUrl() : "/login";
    link.href = base + "?next=" + encodeURIComponent(location.pathname + location.search);
    link.setAttribute("hx-boost", "false");
    return link;
  }

  function renderBar(items) {
    var bar = document.querySelector("[data-outbox-bar]");
    if (!bar) return;
    var state = sync.state;
    var own = items.filter(store.mine);
    var rejected = own.filter(function (item) { return item.status === "rejected"; }).length;
    var count = bar.querySelector("[data-outbox-count]");
    if (count) count.textContent = String(own.length);
    bar.hidden = own.length === 0;
    var box = bar.querySelector("[data-outbox-state]");
    if (!box) return;
    box.textContent = "";
    var parts = [];
    if (state.flushing) parts.push("上传中…");
    else if (state.login) parts.push("登录已过期，请重新登录，记录不会丢失");
    else if (state.problem === "network" || (!util.online() && own.length > rejected)) parts.push("网络不通，恢复后自动上传");
    else if (state.problem === "server") parts.push("服务器暂时出错，稍后自动重试");
    if (rejected) parts.push(rejected + " 条被退回需修改");
    box.textContent = parts.join("；");
    if (state.login && !state.flushing) {
      box.appendChild(document.createTextNode(" "));
      box.appendChild(loginLink("重新登录"));
    }
    bar.dataset.outboxStatus = state.flushing ? "sending" : state.login ? "login" : state.problem || (rejected ? "rejected" : "idle");
  }

  function renderList(items) {
    var box = document.querySelector("[data-outbox-list]");
    if (!box) return;
    box.textContent = "";
    if (!items.length) {
      box.appendChild(element("p", "muted empty", "这部手机上没有待上传的记录。"));
      return;
    }
    var user = store.currentUser();
    var list = element("ul", "rows outbox-items");
    var present = {};
    items.forEach(function (item) { present[item.uuid] = true; });
    items.forEach(function (item) {
      var row = element("li", "row outbox-item");
      row.dataset.outboxItem = item.uuid;
      row.dataset.status = item.status;
      row.appendChild(element("strong", null, item.label || "记录"));
      row.appendChild(document.createTextNode(" "));
      row.appendChild(element("span", item.status === "rejected" ? "tag tag-key" : "tag tag-warn",
        item.status === "rejected" ? "被退回，需修改" : "待上传"));
      var meta = "保存于 " + util.localStamp(item.created_at) + (item.tries ? " · 已尝试上传 " + item.tries + " 次" : " · 还没有上传过");
      row.appendChild(element("span", "block muted", meta));
      if (item.user && user && item.user !== user) {
        row.appendChild(element("span", "block warn-text", "由账号 " + item.user + " 保存，需该账号登录后才能上传。"));
      }
      if (item.status === "rejected" && item.errors) {
        var errors = element("ul", "error outbox-item-errors");
        Object.keys(item.errors).forEach(function (field) {
          var line = element("li", null, String(item.errors[field]));
          line.dataset.field = field;
          errors.appendChild(line);
        });
        row.appendChild(errors);
      } else if (item.after && present[item.after]) {
        row.appendChild(element("span", "block muted", "等它所属的记录上传后再上传。"));
      } else if (item.last_error) {
        row.appendChild(element("span", "block muted", "上次上传：" + item.last_error));
      }
      var actions = element("div", "actions-inline outbox-item-actions");
      if (item.status === "rejected" && item.form) {
        var fix = element("a", "button small primary", "修改");
        fix.href = item.form + "?outbox=" + encodeURIComponent(item.uuid);
        actions.appendChild(fix);
      }
      var drop = element("button", "button small", "删除");
      drop.type = "button";
      drop.dataset.outboxDelete = item.uuid;
      actions.appendChild(drop);
      row.appendChild(actions);
      list.appendChild(row);
    });
    box.appendChild(list);
  }

  // --- the session ended on the server: say what was cleared and what was kept ---------------------

  function sessionEnded(kept) {
    var region = document.getElementById("messages");
    if (!region) return;
    var old = region.querySelector("[data-session-ended]");
    if (old) old.remove();
    var box = element("p", "flash flash-warn", SESSION_ENDED + (kept ? UNSENT_KEPT.replace("{n}", kept) : "。"));
    box.setAttribute("role", "alert");
    box.dataset.sessionEnded = "";
    if (store.signedIn()) { // a page of the ended session: the way back in
      box.appendChild(document.createTextNode(" "));
      box.appendChild(loginLink("重新登录"));
    }
    region.insertBefore(box, region.firstChild);
  }

  // --- logout: warn about unsent items, then clear the phone ---------------------------------------

  function onLogout(event) {
    var form = event.target;
    if (!form || !form.matches || !form.matches("form[data-logout-form]")) return;
    if (form.__leaving) return; // confirmed and cleared: let it post
    event.preventDefault();
    event.stopImmediatePropagation();
    var counted = store.failed ? Promise.resolve(0) : outbox.all().then(function (items) { return items.length; }).catch(function () { return 0; });
    counted.then(function (n) {
      if (n > 0 && !window.confirm(LOGOUT_QUESTION.replace("{n}", n))) return;
      var timeout = new Promise(function (resolve) { setTimeout(resolve, 3000); });
      // The page may be a stored copy hours old, its token past Flask-WTF's time limit: take a
      // fresh one when the server answers (signed out already, the post just leads to the login).
      var token = sync.fetchToken().then(function (value) {
        var field = form.querySelector('input[name="csrf_token"]');
        if (field) field.value = value;
      }).catch(util.noop);
      Promise.race([Promise.all([store.clearAppData(), token]), timeout]).then(function () {
        form.__leaving = true;
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  }

  // An item and those waiting for it (a record's photo goes with the record; a photo alone can
  // be dropped and its record still sent).
  async function removeWithFollowers(uuid) {
    var waiting = (await outbox.all()).filter(function (item) { return item.after === uuid; });
    var question = waiting.length ? "确定删除这条记录吗？它的照片也会一起删除，删除后不能恢复。" : "确定删除这条记录吗？删除后不能恢复。";
    if (!window.confirm(question)) return;
    for (var i = 0; i < waiting.length; i++) await outbox.remove(waiting[i].uuid);
    await outbox.remove(uuid);
  }

  // --- wiring ------------------------------------------------------------------------------------

  function warmPages() {
    if (!("serviceWorker" in navigator) || !util.online()) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage({ type: "guanai:warm", from: location.pathname });
    }).catch(util.noop);
  }

  function scan() {
    if (!document.body) return;
    if (store.failed) {
      var list = document.querySelector("[data-outbox-list]");
      if (list) list.textContent = "这个浏览器不能把记录存在手机上（无法使用 IndexedDB）。请在有网络时直接提交表单。";
      return;
    }
    if (store.signedIn()) store.noticeUserChange(); // before forms read drafts
    else if (store.heldSession()) sync.sessionEnded(); // the login page after the session ended
    G.forms.init(document);
    refresh();
    if (!store.signedIn()) return;
    warmPages();
    G.picker.warm();
    sync.flushOnPageLoad();
  }

  document.addEventListener("submit", onLogout, true); // capture: before htmx's boost

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest) return;
    if (target.closest("[data-outbox-sync]")) {
      sync.flushNow("manual");
      return;
    }
    var drop = target.closest("[data-outbox-delete]");
    if (drop) removeWithFollowers(drop.dataset.outboxDelete).catch(util.noop);
  });

  window.addEventListener("offline", function () { refresh(); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) scan(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && store.signedIn()) sync.flushOnPageLoad();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) scan();
    else if (event.target && event.target.querySelectorAll) G.forms.init(event.target);
  });
  document.addEventListener("htmx:historyRestore", scan);

  G.bar = { refresh: refresh, sessionEnded: sessionEnded };

  store.open().then(scan, function () {
    store.failed = true; // forms post to the server as without script
    scan();
  });
})(window.GuanaiOutbox = window.GuanaiOutbox || {});
