/* A page's view: the stored lines' boxes over the scanned image (the lines containing a search query
   highlighted); ← → keys turn the pages. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("overlay-data").textContent);
  var low = Number(document.getElementById("page-script").getAttribute("data-low")) || 0.8;
  var image = document.getElementById("viewer-image");
  var overlay = document.getElementById("viewer-overlay");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#page-lines tr"));

  function draw() {
    var polygons = OcrOverlay.draw(overlay, data.details, data.width || image.naturalWidth,
                                   data.height || image.naturalHeight, low);
    OcrOverlay.link(polygons, rows);
    document.getElementById("viewer").setAttribute("data-boxes", String(polygons.length));
    // Opened from a search result: bring its line's box into view.
    var focus = overlay.querySelector(".box.focus") || overlay.querySelector(".box.hit");
    if (focus && focus.scrollIntoView) focus.scrollIntoView({ block: "center" });
  }
  if (image.complete && image.naturalWidth) draw(); else image.addEventListener("load", draw);

  document.addEventListener("keydown", function (event) {
    if (event.target && /INPUT|SELECT|TEXTAREA/.test(event.target.tagName)) return;
    var link = event.key === "ArrowLeft" ? document.getElementById("prev-page")
      : event.key === "ArrowRight" ? document.getElementById("next-page") : null;
    if (link) window.location.href = link.href;
  });
})();
