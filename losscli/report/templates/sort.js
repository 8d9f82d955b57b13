// Sorts every table.sortable by a column when its heading is clicked: by the
// full-precision data-value of a cell when it has one, else by its text.
(function () {
  "use strict";
  function key(cell) {
    var raw = cell.getAttribute("data-value");
    if (raw === null) { return [1, cell.textContent.trim().toLowerCase()]; }
    var x = raw === "inf" ? Infinity : raw === "-inf" ? -Infinity : parseFloat(raw);
    return isNaN(x) ? [2, 0] : [0, x];  // numbers, then text, then nan
  }
  function sortBy(table, column, heading) {
    var ascending = heading.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r, s) {
      var a = key(r.cells[column]), b = key(s.cells[column]);
      if (a[0] !== b[0]) { return a[0] - b[0]; }  // nan stays last either way
      var order = a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = heading.textContent;
      button.title = "sort by " + heading.textContent;
      heading.textContent = "";
      heading.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, column, heading); });
    });
    table.setAttribute("data-sortable", "ready");
  });
}());
