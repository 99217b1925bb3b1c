// The report's only script: the step detail panel, and sorting and filtering the runs table.
// The table's state lives in the URL fragment (#sort=run_name&dir=desc&q=text&status=failed),
// so a filtered view can be linked to and opens as it was left.
(function () {
  "use strict";

  var detail = document.getElementById("step-detail");
  function showStep(node) {
    document.querySelectorAll(".node.selected").forEach(function (n) { n.classList.remove("selected"); });
    node.classList.add("selected");
    detail.textContent = "";
    var h = document.createElement("h3");
    h.textContent = node.dataset.step + ": " + node.dataset.status + " in " + node.dataset.seconds + " s";
    detail.appendChild(h);
    [["why it ran", node.dataset.reasons], ["error", node.dataset.error]].forEach(function (pair) {
      if (!pair[1]) { return; }
      var label = document.createElement("strong");
      label.textContent = pair[0];
      var text = document.createElement("pre");
      text.textContent = pair[1];
      detail.appendChild(label);
      detail.appendChild(text);
    });
    detail.hidden = false;
  }
  document.querySelectorAll(".node").forEach(function (node) {
    node.addEventListener("click", function () { showStep(node); });
    node.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); showStep(node); }
    });
  });

  var table = document.getElementById("runs");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var filter = document.getElementById("run-filter");
  var statusFilter = document.getElementById("run-status-filter");
  var count = document.getElementById("run-count");
  var state = { sort: "", dir: "asc", q: "", status: "" };

  function readFragment() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    state.sort = params.get("sort") || "";
    state.dir = params.get("dir") === "desc" ? "desc" : "asc";
    state.q = params.get("q") || "";
    state.status = params.get("status") || "";
    filter.value = state.q;
    statusFilter.value = state.status;
  }

  function writeFragment() {
    var params = new URLSearchParams();
    if (state.sort) { params.set("sort", state.sort); params.set("dir", state.dir); }
    if (state.q) { params.set("q", state.q); }
    if (state.status) { params.set("status", state.status); }
    var text = params.toString();
    history.replaceState(null, "", text ? "#" + text : location.pathname + location.search);
  }

  function apply() {
    var column = headers.findIndex(function (h) { return h.dataset.key === state.sort; });
    headers.forEach(function (h, i) {
      if (i === column) { h.setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending"); }
      else { h.removeAttribute("aria-sort"); }
    });
    var ordered = rows.slice();
    if (column >= 0) {
      var sign = state.dir === "asc" ? 1 : -1;
      ordered.sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
        return sign * x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
      });
    }
    var needle = state.q.toLowerCase();
    var shown = 0;
    ordered.forEach(function (row) {
      var visible = (!state.status || row.dataset.status === state.status) &&
        (!needle || row.textContent.toLowerCase().indexOf(needle) >= 0);
      row.hidden = !visible;
      if (visible) { shown += 1; }
      body.appendChild(row);
    });
    count.textContent = shown + " of " + rows.length + " runs shown";
  }

  headers.forEach(function (h) {
    h.querySelector("button").addEventListener("click", function () {
      state.dir = state.sort === h.dataset.key && state.dir === "asc" ? "desc" : "asc";
      state.sort = h.dataset.key;
      writeFragment();
      apply();
    });
  });
  filter.addEventListener("input", function () { state.q = filter.value; writeFragment(); apply(); });
  statusFilter.addEventListener("change", function () { state.status = statusFilter.value; writeFragment(); apply(); });
  window.addEventListener("hashchange", function () { readFragment(); apply(); });
  readFragment();
  apply();
}());
