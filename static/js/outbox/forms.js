/* 关爱通 offline outbox, 3/5: the offline forms (see store.js for how the files fit).
 *
 * A form marked `form[data-offline-form="<kind>"]` is not posted: its fields become a JSON body that
 * is put in the outbox, then sent now or when the network returns. Everything this file needs to
 * know of a form is on the form, so a new record type needs no edit here:
 *   data-offline-form      the kind (an outbox item is fixed only in a form of its kind)
 *   data-offline-label     the kind's label in the outbox ("走访")
 *   data-offline-endpoint  the JSON API the body goes to
 *   data-offline-date      the name of the record's date field (checked, shown in the label)
 *   data-offline-picker    where the picker's list comes from (picker.js)
 *   data-offline-photo-endpoint  where the photo of input[type=file][data-offline-photo="<field>"]
 *                          goes, with its record's client_uuid in <field>
 *   data-draft-key, data-done-url, data-done-label   the draft's key, the link after saving
 * on the picker, select[data-child-picker] (named child_id, pairing_id …: the body's field):
 * data-picker-prompt (the message when none is chosen), data-picker-param (the query parameter
 * that preselects one, default "child"), data-picker-missing (what a 404 means, shown under it)
 * and data-picker-filter (a category the children must have); on any field: data-offline-required
 * (the message when it is empty), data-offline-range (a whole number: the message when it is not
 * one, or outside data-min and data-max), data-offline-skip (never in the body: only the form
 * posted without script needs it).
 *
 * The photo: shrunk on the phone (at most PHOTO_SIDE px on the long side, PHOTO_BYTES, JPEG with
 * less quality until it fits) before anything is queued, then put in the outbox with its record
 * in one transaction, as its own item (its own client_uuid, multipart) that names the record's
 * uuid in `after`: sync.js sends it only once the record has left the outbox. */
(function (G) {
  "use strict";

  var UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  var util = G.util;
  var store = G.store;
  var outbox = store.outbox;
  var forEach = util.forEach;
  var element = util.element;
  var PHOTO_SIDE = 1280;
  var PHOTO_BYTES = 300 * 1024;
  var PHOTO_QUALITIES = [0.85, 0.7, 0.55, 0.4];

  function newUuid() {
    var cryptoObj = window.crypto;
    if (cryptoObj && typeof cryptoObj.randomUUID === "function") return cryptoObj.randomUUID();
    var bytes = new Uint8Array(16);
    if (cryptoObj && cryptoObj.getRandomValues) cryptoObj.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function setUuid(form, uuid) {
    var field = form.querySelector('input[name="client_uuid"]');
    if (field) field.value = uuid;
  }
  function pickerOf(form) { return form.querySelector("select[data-child-picker]"); }
  function pickerField(form) {
    var picker = pickerOf(form);
    return picker ? picker.name : "child_id";
  }
  function photoInputOf(form) { return form.querySelector('input[type="file"][data-offline-photo]'); }
  function skipped(el) {
    return !el.name || el.name === "csrf_token" || el.type === "submit" || el.type === "button" || el.type === "file"
      || el.hasAttribute("data-offline-skip");
  }
  function dateFieldOf(form) {
    var name = form.dataset.offlineDate;
    return name && form.elements[name] ? name : null;
  }
  function labelOf(form, name) {
    var label = form.querySelector('label[for="f-' + name + '"]');
    return label ? label.textContent.trim() : name;
  }
  function checkboxCounts(form) {
    var counts = {};
    forEach(form.elements, function (el) {
      if (el.type === "checkbox" && el.name) counts[el.name] = (counts[el.name] || 0) + 1;
    });
    return counts;
  }

  // The JSON the API takes (e.g. blueprints/visits/validation.py): radios as values, a lone
  // checkbox as true/false, repeated checkboxes (needs) as a list, empty fields left out, the
  // picker's id and whole numbers as numbers, "true"/"false" choices as booleans. Never a file.
  function buildBody(form) {
    var body = {};
    var counts = checkboxCounts(form);
    Object.keys(counts).forEach(function (name) { if (counts[name] > 1) body[name] = []; });
    forEach(form.elements, function (el) {
      var name = el.name;
      if (skipped(el) || el.disabled) return;
      if (el.type === "radio") {
        if (el.checked) body[name] = el.value === "true" ? true : el.value === "false" ? false : el.value;
      } else if (el.type === "checkbox") {
        if (counts[name] > 1) {
          if (el.checked) body[name].push(el.value);
        } else {
          body[name] = el.checked;
        }
      } else {
        var value = String(el.value || "").trim();
        var whole = (el.type === "number" || el.hasAttribute("data-offline-range")) && /^\d{1,9}$/.test(value);
        if (value !== "") body[name] = whole ? parseInt(value, 10) : value;
      }
    });
    var field = pickerField(form);
    if (body[field] !== undefined) {
      var id = parseInt(body[field], 10);
      if (isNaN(id)) delete body[field];
      else body[field] = id;
    }
    return body;
  }

  // The reverse, for a draft or an item being fixed. The picker is filled by picker.js.
  function fillForm(form, body) {
    forEach(form.elements, function (el) {
      var name = el.name;
      if (skipped(el) || el.matches("select[data-child-picker]")) return;
      var value = body[name];
      if (el.type === "radio") {
        el.checked = value !== undefined && value !== null && String(value) === el.value;
      } else if (el.type === "checkbox") {
        el.checked = Array.isArray(value) ? value.indexOf(el.value) >= 0 : value === true || value === "1" || value === "true" || value === "on";
      } else {
        el.value = value === undefined || value === null ? "" : String(value);
      }
    });
  }

  // A page kept by the service worker may be days old: its date fields' max (today) and default
  // (today) are moved to this phone's today.
  function refreshDates(form) {
    var today = util.localDate(new Date());
    forEach(form.querySelectorAll('input[type="date"][max]'), function (input) {
      if (input.max && input.max < today) {
        if (input.defaultValue === input.max) input.defaultValue = today;
        if (input.value === input.max) input.value = today;
        input.max = today;
      }
    });
  }

  function showErrors(form, errors) {
    var unmatched = [];
    forEach(form.querySelectorAll("[data-error-for]"), function (box) {
      var message = errors[box.dataset.errorFor];
      box.textContent = message || "";
      box.hidden = !message;
      var field = box.closest(".field");
      if (field) field.classList.toggle("has-error", Boolean(message));
    });
    Object.keys(errors).forEach(function (name) {
      if (!form.querySelector('[data-error-for="' + name + '"]')) unmatched.push(errors[name]);
    });
    var summary = form.querySelector("[data-form-errors]");
    var total = Object.keys(errors).length;
    if (summary) {
      summary.textContent = total ? "有 " + total + " 处需要修改，请看标红的项目。" + (unmatched.length ? " " + unmatched.join("；") : "") : "";
      summary.hidden = !total;
    }
    var first = form.querySelector(".has-error");
    if (first && total) {
      first.scrollIntoView({ block: "center" });
      var input = first.querySelector("input, select, textarea");
      if (input) input.focus({ preventScroll: true });
    } else if (summary && total) {
      summary.scrollIntoView({ block: "center" });
    }
  }

  function check(form, body) {
    var errors = {};
    var picker = pickerOf(form);
    if (picker && !body[picker.name]) errors[picker.name] = picker.dataset.pickerPrompt || "请选择儿童";
    var dateField = dateFieldOf(form);
    if (dateField && !body[dateField]) errors[dateField] = "请填写" + labelOf(form, dateField);
    forEach(form.querySelectorAll("[data-offline-required]"), function (el) {
      if (body[el.name] === undefined) errors[el.name] = el.dataset.offlineRequired;
    });
    forEach(form.querySelectorAll("input[data-offline-range]"), function (el) {
      var value = body[el.name];
      var low = el.dataset.min ? Number(el.dataset.min) : -Infinity;
      var high = el.dataset.max ? Number(el.dataset.max) : Infinity;
      if (value !== undefined && !(typeof value === "number" && value >= low && value <= high)) {
        errors[el.name] = el.dataset.offlineRange;
      }
    });
    return errors;
  }

  function labelFor(form, body) {
    var kind = form.dataset.offlineLabel || "记录";
    return [kind, G.picker.selectedName(form, body[pickerField(form)]), body[dateFieldOf(form)] || ""].filter(Boolean).join(" ");
  }

  function notice(form, text, kind, withDoneLink) {
    var box = form.querySelector("[data-outbox-notice]");
    if (!box) {
      box = element("div");
      box.setAttribute("data-outbox-notice", "");
      box.setAttribute("role", "status");
      var heading = form.querySelector("h1");
      if (heading) heading.insertAdjacentElement("afterend", box);
      else form.insertBefore(box, form.firstChild);
    }
    box.className = "flash flash-" + (kind || "success") + " outbox-notice";
    box.textContent = "";
    box.appendChild(element("span", null, text));
    var done = form.dataset.doneUrl;
    if (withDoneLink && done) {
      box.appendChild(document.createTextNode(" "));
      var link = element("a", null, form.dataset.doneLabel || "返回");
      link.href = done;
      box.appendChild(link);
    }
    box.hidden = false;
    return box;
  }

  // --- drafts: what was typed and not saved survives a reload ------------------------------------

  function draftKey(form, childId) {
    return store.DRAFT_PREFIX + form.dataset.draftKey + ":" + (childId || "new");
  }

  function saveDraft(form) {
    var own = form.__outbox;
    if (!own || own.editing || !form.dataset.draftKey) return;
    // The phone was cleared (logout: store.clearAppData) while a keystroke's save waited: keep it so.
    if (!store.heldSession()) return;
    var body = buildBody(form);
    var key = draftKey(form, body[pickerField(form)]);
    try {
      if (own.draftKey && own.draftKey !== key) localStorage.removeItem(own.draftKey); // one draft per form
      localStorage.setItem(key, JSON.stringify({ body: body, saved_at: new Date().toISOString() }));
      own.draftKey = key;
    } catch (err) { /* storage full or unavailable: the draft is a convenience */ }
  }

  function clearDraft(form, body) {
    var keys = [form.__outbox.draftKey, draftKey(form, body && body[pickerField(form)]), draftKey(form, null)];
    keys.forEach(function (key) {
      if (key) try { localStorage.removeItem(key); } catch (err) { /* ignore */ }
    });
    form.__outbox.draftKey = null;
  }

  function readDraft(form, childId) {
    if (!form.dataset.draftKey) return null;
    try {
      var saved = JSON.parse(localStorage.getItem(draftKey(form, childId)) || "null");
      return saved && saved.body ? saved : null;
    } catch (err) {
      return null;
    }
  }

  function cleanUrl(form) {
    var picker = pickerOf(form);
    var params = new URLSearchParams(location.search);
    if (!params.has("outbox") && !params.has(picker ? picker.dataset.pickerParam || "child" : "child")) return;
    try { history.replaceState(history.state, "", location.pathname); } catch (err) { /* ignore */ }
  }

  // Ready for the next record: defaults back, no child, a new client_uuid.
  function resetForm(form) {
    form.reset();
    refreshDates(form);
    var select = form.querySelector("select[data-child-picker]");
    if (select) select.value = "";
    setUuid(form, newUuid());
    form.__outbox.editing = null;
    form.__outbox.generation += 1;
    showErrors(form, {});
    cleanUrl(form);
  }

  // --- the photo: shrunk here, before it is queued ------------------------------------------------

  function decodeImage(file) {
    if (window.createImageBitmap) {
      // upright as the camera recorded it (older browsers without the option: as stored)
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () { return createImageBitmap(file); });
    }
    return new Promise(function (resolve, reject) { // a data: URL, which the CSP allows (blob: it does not)
      var reader = new FileReader();
      reader.onerror = reject;
      reader.onload = function () {
        var image = new Image();
        image.onload = function () { resolve(image); };
        image.onerror = reject;
        image.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
  }

  function canvasBlob(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  // A JPEG Blob of at most PHOTO_SIDE px on the long side and PHOTO_BYTES: less quality first, then
  // fewer pixels at the lowest quality, as many fewer as the last size says (each encoding takes a
  // phone a moment). Rejects when this browser cannot read the file as an image.
  async function shrinkPhoto(file) {
    var image = await decodeImage(file);
    var width = image.width;
    var height = image.height;
    if (!width || !height) throw new Error("empty image");
    var scale = Math.min(1, PHOTO_SIDE / Math.max(width, height));
    var first = 0;
    try {
      for (;;) {
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(width * scale));
        canvas.height = Math.max(1, Math.round(height * scale));
        var context = canvas.getContext("2d");
        context.fillStyle = "#fff"; // a transparent picture on white, as the server would
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.drawImage(image, 0, 0, canvas.width, canvas.height);
        var blob = null;
        for (var i = first; i < PHOTO_QUALITIES.length; i++) {
          blob = await canvasBlob(canvas, PHOTO_QUALITIES[i]);
          if (!blob) throw new Error("canvas refused");
          if (blob.size <= PHOTO_BYTES) return blob;
        }
        first = PHOTO_QUALITIES.length - 1;
        scale *= Math.min(0.9, Math.max(0.5, 0.95 * Math.sqrt(PHOTO_BYTES / blob.size)));
      }
    } finally {
      if (image.close) image.close();
    }
  }

  // The photo's own outbox item: sent as multipart after the record (`after`), naming it in the
  // field the photo input says (data-offline-photo="activity_uuid").
  function photoItem(form, record, blob) {
    var input = photoInputOf(form);
    var uuid = newUuid();
    var body = { client_uuid: uuid };
    body[input.dataset.offlinePhoto] = record.uuid;
    return {
      uuid: uuid, url: form.dataset.offlinePhotoEndpoint, body: body, file: blob, file_field: input.name,
      after: record.uuid, after_field: input.dataset.offlinePhoto, label: "照片 · " + record.label, kind: "photo",
      form: null, user: record.user, field: input.name, tries: 0, last_error: null, errors: null, status: "pending",
      created_at: record.created_at, saved_at: record.saved_at
    };
  }

  // The items waiting for `uuid` (its photo), now waiting for `renamed`, or dropped (renamed null).
  async function followers(uuid, renamed) {
    var waiting = (await outbox.all()).filter(function (item) { return item.after === uuid; });
    for (var i = 0; i < waiting.length; i++) {
      if (renamed === null) await outbox.remove(waiting[i].uuid);
      else await outbox.update(waiting[i].uuid, function (stored) {
        stored.after = renamed;
        stored.body[stored.after_field] = renamed;
        return stored;
      });
    }
  }

  async function queueForm(form) {
    var own = form.__outbox;
    var body = buildBody(form);
    if (!UUID_RE.test(body.client_uuid || "")) {
      body.client_uuid = newUuid();
      setUuid(form, body.client_uuid);
    }
    body.client_uuid = body.client_uuid.toLowerCase();
    var errors = check(form, body);
    var input = photoInputOf(form);
    var photo = null;
    if (!Object.keys(errors).length && input && input.files && input.files[0]) {
      notice(form, "正在缩小照片…", "info");
      try {
        photo = await shrinkPhoto(input.files[0]);
      } catch (err) {
        errors[input.name] = "照片：这部手机读不出这个文件，请换一张照片，或不加照片";
      }
    }
    showErrors(form, errors);
    if (Object.keys(errors).length) return;
    var editing = own.editing;
    var picker = pickerOf(form);
    // recorded_at: when the user saved it on the phone; fixing a rejected item keeps the first.
    body.recorded_at = editing && editing.body.recorded_at ? editing.body.recorded_at : new Date().toISOString();
    var item = {
      uuid: body.client_uuid,
      url: form.dataset.offlineEndpoint,
      body: body,
      label: labelFor(form, body),
      kind: form.dataset.offlineForm,
      form: location.pathname,
      user: store.currentUser(),
      tries: 0,
      last_error: null,
      errors: null,
      status: "pending",
      field: picker ? picker.name : "child_id",
      missing: picker ? picker.dataset.pickerMissing || null : null,
      created_at: editing ? editing.created_at : new Date().toISOString(),
      saved_at: new Date().toISOString() + "/" + Math.random().toString(36).slice(2)
    };
    try {
      if (photo) await followers(item.uuid, null); // a new photo replaces one still waiting
      await outbox.putAll(photo ? [item, photoItem(form, item, photo)] : [item]);
      // fixed under a new client_uuid (the server said the old one was taken): drop the old item,
      // its photo now waits for the new one
      if (editing && editing.uuid !== item.uuid) {
        if (!photo) await followers(editing.uuid, item.uuid);
        else await followers(editing.uuid, null);
        await outbox.remove(editing.uuid);
      }
    } catch (err) {
      notice(form, "没能保存在手机上（" + (err && err.name || "存储出错") + "）。请不要关闭页面，在有网络时再点保存。", "error");
      return;
    }
    clearDraft(form, body);
    resetForm(form);
    notice(form, (editing ? "已修改，" : "") + "已保存在手机上，待上传：" + item.label + (photo ? "（含照片）" : ""), "success", true);
    window.scrollTo(0, 0);
    G.sync.requestBackgroundSync();
    await G.sync.flushNow("queued");
    var still = await outbox.get(item.uuid).catch(function () { return item; });
    if (!document.contains(form)) return;
    if (!still) notice(form, "已上传：" + item.label, "success", true);
    else if (still.status === "rejected") notice(form, "服务器退回了这条记录，请到“待上传”里查看并修改：" + item.label, "error");
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form || !form.matches || !form.matches("form[data-offline-form]")) return;
    if (form.hasAttribute("data-offline-disabled") || !form.__outbox) return;
    if (store.failed) return; // no IndexedDB here: the form posts to the server as it would without script
    event.preventDefault();
    event.stopImmediatePropagation(); // htmx (hx-boost) must not post it too
    if (form.__outbox.busy) return;
    form.__outbox.busy = true;
    queueForm(form).catch(function () { /* reported by notice() */ }).then(function () { form.__outbox.busy = false; });
  }

  async function setupForm(form) {
    var own = form.__outbox;
    refreshDates(form);
    var params = new URLSearchParams(location.search);
    var select = pickerOf(form);
    var field = pickerField(form);
    var wanted = params.get(select ? select.dataset.pickerParam || "child" : "child");
    var editUuid = params.get("outbox");
    if (select && !wanted) select.value = ""; // a stored page may hold another child's selection
    var usedUuid = null;
    if (editUuid) {
      var item = await outbox.get(editUuid).catch(function () { return null; });
      if (item && item.kind === form.dataset.offlineForm) {
        own.editing = item;
        fillForm(form, item.body);
        wanted = item.body[field];
        // the same client_uuid (the server keeps one record per uuid), unless the server refused it
        usedUuid = item.errors && item.errors.client_uuid ? null : item.uuid;
        notice(form, "正在修改待上传的记录：" + item.label + "。改好后点保存。", "warn");
        if (item.errors) showErrors(form, item.errors);
      } else {
        notice(form, "找不到这条待上传的记录，可能已经上传或删除。", "warn");
      }
    } else {
      var draft = readDraft(form, wanted);
      if (draft) {
        fillForm(form, draft.body);
        wanted = draft.body[field] || wanted;
        own.draftKey = draftKey(form, wanted);
        var stored = UUID_RE.test(draft.body.client_uuid || "") ? await outbox.get(draft.body.client_uuid).catch(function () { return null; }) : null;
        if (UUID_RE.test(draft.body.client_uuid || "") && !stored) usedUuid = draft.body.client_uuid;
        var box = notice(form, "已恢复上次没有保存的内容（" + util.localStamp(draft.saved_at) + "）。", "info");
        var discard = element("button", "linklike", "清空重填");
        discard.type = "button";
        discard.addEventListener("click", function () {
          clearDraft(form, buildBody(form));
          resetForm(form);
          box.hidden = true;
        });
        box.appendChild(document.createTextNode(" "));
        box.appendChild(discard);
      }
    }
    // Never the client_uuid written into the page: a page kept by the service worker repeats it.
    setUuid(form, usedUuid || newUuid());
    var timer = null;
    var later = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { saveDraft(form); }, 300);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    await G.picker.setup(form, wanted);
    own.ready = true;
    form.dataset.outboxReady = "";
  }

  function init(root) {
    if (store.failed) return;
    forEach((root || document).querySelectorAll("form[data-offline-form]"), function (form) {
      if (form.__outbox || form.hasAttribute("data-offline-disabled")) return;
      form.__outbox = { editing: null, draftKey: null, busy: false, ready: false, generation: 0 };
      setupForm(form).catch(util.noop);
    });
  }

  document.addEventListener("submit", onSubmit, true); // capture: before htmx's boost

  G.forms = { init: init };
})(window.GuanaiOutbox = window.GuanaiOutbox || {});
