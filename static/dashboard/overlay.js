/* Boxes drawn over an image: an SVG laid over the <img>, in the image's own pixel coordinates.
   All text goes through textContent / setAttribute: recognised text is hostile input. */
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function draw(svg, details, width, height, low) {
    clear(svg);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("preserveAspectRatio", "none");
    var polygons = [];
    (details || []).forEach(function (line, index) {
      var points = (line.box || []).map(function (p) { return Number(p[0]) + "," + Number(p[1]); }).join(" ");
      var polygon = document.createElementNS(SVG_NS, "polygon");
      polygon.setAttribute("points", points);
      // hit: the line contains the search query; focus: the search result the page was opened from.
      polygon.setAttribute("class", "box" + (line.confidence < low ? " low" : "") + (line.hit ? " hit" : "") +
                           (line.focus ? " focus" : ""));
      polygon.setAttribute("data-index", String(index));
      var title = document.createElementNS(SVG_NS, "title");
      title.textContent = (index + 1) + ". " + line.text + "（" + Number(line.confidence).toFixed(3) + "）";
      polygon.appendChild(title);
      svg.appendChild(polygon);
      polygons.push(polygon);
    });
    return polygons;
  }

  /* Hovering or focusing a row of the line list highlights its box, and the other way round. */
  function link(polygons, rows) {
    function set(index, on) {
      if (polygons[index]) polygons[index].classList.toggle("active", on);
      if (rows[index]) rows[index].classList.toggle("active", on);
    }
    polygons.forEach(function (polygon, index) {
      polygon.addEventListener("mouseenter", function () { set(index, true); });
      polygon.addEventListener("mouseleave", function () { set(index, false); });
    });
    rows.forEach(function (row, index) {
      row.addEventListener("mouseenter", function () { set(index, true); });
      row.addEventListener("mouseleave", function () { set(index, false); });
    });
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function fillLines(tbody, details, low) {
    clear(tbody);
    return (details || []).map(function (line, index) {
      var row = document.createElement("tr");
      if (line.confidence < low) row.className = "low";
      cell(row, String(index + 1));
      cell(row, line.text);
      cell(row, Number(line.confidence).toFixed(3), "num");
      tbody.appendChild(row);
      return row;
    });
  }

  window.OcrOverlay = { draw: draw, link: link, fillLines: fillLines, clear: clear };
})();
