/* 关爱通 offline outbox, 4/5: the child picker (see store.js for how the files fit).
 *
 * select[data-child-picker] in an offline form is filled from the list its form names in
 * data-offline-picker: per role, the due list for directors (/api/v1/due-list: {"children": …}), a
 * volunteer's pairings for the activity log (/api/v1/my-pairings: {"pairings": …}, each a pairing's
 * id with its child's name). The list (minimal fields only) is kept in IndexedDB per source, so the
 * picker works offline; any other element with data-offline-picker (the due list page, her
 * pairings page) fetches its list ahead, while there is a network. */
(function (G) {
  "use strict";

  var util = G.util;
  var store = G.store;
  var forEach = util.forEach;
  var element = util.element;

  async function fetchChildren(source) {
    try {
      var response = await fetch(source, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
      if (store.endsSession(response)) {
        G.sync.sessionEnded();
        return null;
      }
      if (!response.ok || response.redirected) return null;
      var data = await response.json();
      var children = (data.children || data.pairings || []).map(function (c) {
        return { id: c.id, name: c.name, age: c.age, village: c.village, categories: c.categories || [],
                 attention: c.attention, bucket: c.bucket, detail: c.detail || null };
      });
      await store.storeChildren(source, children).catch(util.noop);
      return children;
    } catch (err) {
      return null;
    }
  }

  function childLabel(child) {
    return child.name + (child.village ? " · " + child.village : "") + (child.detail ? " · " + child.detail : "")
      + (child.bucket === "overdue" ? " · 已逾期" : "");
  }

  function matchesFilter(child, filter) {
    return !filter || (child.categories || []).some(function (c) { return c === filter || c.indexOf(filter + "·") === 0; });
  }

  // Fill the picker from the list, keeping a server-rendered option the list lacks, and select
  // `wanted` (the child in ?child=, of a draft or of an item being fixed), adding it if unknown.
  function fill(select, children, wanted) {
    var filter = select.dataset.pickerFilter;
    var listed = {};
    forEach(Array.prototype.slice.call(select.options), function (option) {
      if (option.dataset.fromList !== undefined || option.dataset.unknown !== undefined) select.removeChild(option);
    });
    children.filter(function (child) { return matchesFilter(child, filter); }).forEach(function (child) {
      listed[child.id] = true;
      var option = element("option", null, childLabel(child));
      option.value = String(child.id);
      option.dataset.fromList = "";
      select.appendChild(option);
    });
    forEach(Array.prototype.slice.call(select.options), function (option) {
      if (option.value && option.dataset.fromList === undefined && listed[option.value]) select.removeChild(option);
    });
    var value = wanted ? String(wanted) : "";
    if (value && !Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
      var unknown = element("option", null, "编号 " + value + " 的儿童");
      unknown.value = value;
      unknown.dataset.unknown = "";
      select.appendChild(unknown);
    }
    select.value = value;
  }

  // A search box before a long list (a school's pupils, input[data-picker-search]): what is typed
  // narrows the options to those whose label holds it (a name, a village, a grade); the chosen
  // child and the prompt always stay.
  function narrow(select, search) {
    var query = search.value.trim();
    var shown = 0;
    forEach(Array.prototype.slice.call(select.options), function (option) {
      var hide = Boolean(query) && option.value !== "" && option.value !== select.value
        && option.textContent.indexOf(query) < 0;
      option.hidden = hide;
      if (!hide && option.value) shown++;
    });
    var count = search.form && search.form.querySelector("[data-picker-count]");
    if (count) count.textContent = query ? "找到 " + shown + " 名" : "";
  }

  function searchable(form, select) {
    var search = form.querySelector("input[data-picker-search]");
    if (!search) return function () {};
    if (!search.__narrowing) {
      search.__narrowing = true;
      search.addEventListener("input", function () { narrow(select, search); });
      search.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();  // a search, not the form's submit
      });
    }
    return function () { narrow(select, search); };
  }

  async function setup(form, wanted) {
    var select = form.querySelector("select[data-child-picker]");
    var source = form.dataset.offlinePicker;
    if (!select || !source) return;
    var renarrow = searchable(form, select);
    var generation = form.__outbox.generation;
    var stored = await store.readChildren(source).catch(function () { return []; });
    fill(select, stored, wanted);
    renarrow();
    if (!util.online()) return;
    var fresh = await fetchChildren(source);
    if (fresh && document.contains(select)) {
      // keep what the user chose meanwhile; after a save (reset) no child is wanted any more
      fill(select, fresh, select.value || (form.__outbox.generation === generation ? wanted : ""));
      renarrow();
    }
  }

  // The name shown in the outbox's label for the chosen child (or pairing).
  function selectedName(form, childId) {
    var select = form.querySelector("select[data-child-picker]");
    var option = select && select.selectedOptions ? select.selectedOptions[0] : null;
    if (option && option.value === String(childId) && option.dataset.unknown === undefined) {
      return option.textContent.split(" · ")[0].trim();
    }
    return childId ? "编号 " + childId + " 的儿童" : "";
  }

  // A page that names a list outside a form (the due list page): keep it for the forms, offline.
  function warm() {
    if (!util.online()) return;
    var seen = {};
    forEach(document.querySelectorAll("[data-offline-picker]:not(form)"), function (el) {
      var source = el.dataset.offlinePicker;
      if (source && !seen[source]) {
        seen[source] = true;
        fetchChildren(source);
      }
    });
  }

  G.picker = { setup: setup, selectedName: selectedName, warm: warm };
})(window.GuanaiOutbox = window.GuanaiOutbox || {});
