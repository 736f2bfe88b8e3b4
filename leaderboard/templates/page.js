// Sorting and opening only: every table and detail is plain HTML without this script.
"use strict";
(function () {
  function sortBy(table, column) {
    var head = table.tHead.rows[0].cells[column];
    var numeric = head.dataset.type === "number";
    var current = head.getAttribute("aria-sort");
    // numbers: highest first on the first click (every metric here is higher-better); text: A to Z
    var descending = current ? current === "ascending" : numeric;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    function key(row) {
      var value = row.cells[column].dataset.value;
      if (value === undefined) { return null; }
      return numeric ? parseFloat(value) : value;
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null || y === null) {  // missing cells last, either way
        return (x === null) - (y === null) || a.dataset.order - b.dataset.order;
      }
      var order = numeric ? x - y : x.localeCompare(y);
      return (descending ? -order : order) || a.dataset.order - b.dataset.order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    head.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row, i) { row.dataset.order = i; });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.title = "sort by this column";
      while (cell.firstChild) { button.appendChild(cell.firstChild); }
      cell.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, column); });
    });
  });

  // A table cell links to its details: open them when followed.
  function openTarget(hash) {
    var target = hash && document.getElementById(decodeURIComponent(hash.slice(1)));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (link) { openTarget(link.getAttribute("href")); }
  });
  window.addEventListener("hashchange", function () { openTarget(location.hash); });
  openTarget(location.hash);

  document.querySelectorAll("button[data-details]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.dataset.details === "open";
      document.querySelectorAll("details.cell").forEach(function (d) { d.open = open; });
    });
  });
})();
