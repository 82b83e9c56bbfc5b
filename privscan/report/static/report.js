/* privscan report: filters, sorting and region toggles. The table works without this script. */
(function () {
  "use strict";
  var doc = document;
  var controls = doc.getElementById("controls");
  var tbody = doc.getElementById("records");
  if (!controls || !tbody) { return; }
  controls.hidden = false;
  doc.documentElement.classList.add("js");

  // detailed rows in #records, compact ones in chunked tables below it (#compact); sorting refills them in order
  var rows = Array.prototype.slice.call(doc.querySelectorAll("tr.rec"));
  var bodies = [tbody].concat(Array.prototype.slice.call(doc.querySelectorAll("#compact tbody")));
  var sizes = bodies.map(function (b) { return b.querySelectorAll("tr.rec").length; });
  var search = doc.getElementById("search");
  var shown = doc.getElementById("shown");
  var sortSelect = doc.getElementById("sort");
  var regions = doc.getElementById("show-regions");

  function ticked(name) {
    var out = {};
    var boxes = controls.querySelectorAll("input[name='" + name + "']");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) { out[boxes[i].value] = true; }
    }
    return out;
  }

  function apply() {
    var levels = ticked("level");
    var groups = ticked("group");
    var groupFilter = Object.keys(groups).length > 0;
    var query = search.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (row) {
      var ok = levels[row.getAttribute("data-level")] === true;
      if (ok && groupFilter) {
        var mine = (row.getAttribute("data-groups") || "").split(" ");
        ok = mine.some(function (g) { return groups[g] === true; });
      }
      if (ok && query) { ok = row.getAttribute("data-path").indexOf(query) >= 0; }
      row.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = "showing " + n + " of " + rows.length;
  }

  function sortRows() {
    var key = sortSelect.value;
    var sorted = rows.slice().sort(function (a, b) {
      if (key === "path") {
        var pa = a.getAttribute("data-path"), pb = b.getAttribute("data-path");
        return pa < pb ? -1 : pa > pb ? 1 : 0;
      }
      return Number(a.getAttribute("data-order")) - Number(b.getAttribute("data-order"));
    });
    var body = 0, left = sizes[0];
    sorted.forEach(function (row) {
      while (left === 0 && body < bodies.length - 1) { body += 1; left = sizes[body]; }
      bodies[body].appendChild(row);
      left -= 1;
    });
  }

  controls.addEventListener("change", function (ev) {
    if (ev.target === sortSelect) { sortRows(); return; }
    if (ev.target === regions) { doc.body.classList.toggle("hide-regions", !regions.checked); return; }
    apply();
  });
  search.addEventListener("input", apply);
  tbody.addEventListener("click", function (ev) {
    var box = ev.target.closest ? ev.target.closest(".thumb-box") : null;
    if (box) { box.classList.toggle("off"); }
  });
  apply();
})();
