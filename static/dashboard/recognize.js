/* `/`: send the chosen file to the dashboard's recognize endpoint, then show text, lines and boxes. A PDF or
   multi-page TIFF (or any file the browser cannot show) comes back with a preview of each page: a page
   switcher shows each page with its own boxes and lines. With 结果 set to a download (PDF, hOCR, ALTO), the
   same request carries `response_format` and the file it answers with is saved under the name it gives. */
(function () {
  "use strict";
  var form = document.getElementById("recognize-form");
  if (!form) return;
  var input = document.getElementById("id_file");
  var dropzone = document.getElementById("dropzone");
  var fileName = document.getElementById("file-name");
  var statusText = document.getElementById("recognize-status");
  var button = document.getElementById("recognize-button");
  var section = document.getElementById("result");
  var errorBox = document.getElementById("result-error");
  var meta = document.getElementById("result-meta");
  var viewer = document.getElementById("viewer");
  var image = document.getElementById("viewer-image");
  var overlay = document.getElementById("viewer-overlay");
  var legend = document.getElementById("legend");
  var textOut = document.getElementById("result-text");
  var tbody = document.getElementById("result-lines");
  var switcher = document.getElementById("page-switcher");
  var linesPage = document.getElementById("lines-page");
  var responseFormat = document.getElementById("id_response_format");
  var low = Number(document.currentScript.getAttribute("data-low")) || 0.8;
  var objectUrl = null;

  function showName() {
    fileName.textContent = input.files.length ? input.files[0].name : "";
  }
  input.addEventListener("change", showName);
  dropzone.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) { event.preventDefault(); dropzone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function () { dropzone.classList.remove("over"); });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      showName();
    }
  });

  function fail(message) {
    section.hidden = false;
    errorBox.hidden = false;
    errorBox.textContent = message;
  }

  /* The download name a Content-Disposition header gives: filename*=utf-8''… (Django's form for a name
     that is not ASCII), else filename="…". */
  function attachmentName(header, fallback) {
    var encoded = /filename\*=utf-8''([^;]+)/i.exec(header || "");
    if (encoded) {
      try { return decodeURIComponent(encoded[1]); } catch (error) { /* the plain name, if any */ }
    }
    var plain = /filename="((?:[^"\\]|\\.)*)"/i.exec(header || "");
    return plain ? plain[1].replace(/\\(.)/g, "$1") : fallback;
  }

  function save(blob, name) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 60000);
  }

  /* The image at `source` with the boxes of `page` (a result or one of its pages) over it. */
  function showImage(source, page, rows) {
    if (source.indexOf("blob:") === 0) objectUrl = source;
    image.onload = function () {
      viewer.hidden = false;
      legend.hidden = false;
      var polygons = OcrOverlay.draw(overlay, page.details, page.width || image.naturalWidth,
                                     page.height || image.naturalHeight, low);
      OcrOverlay.link(polygons, rows);
      viewer.setAttribute("data-boxes", String(polygons.length));
    };
    image.onerror = function () { viewer.hidden = true; };
    image.src = source;
  }

  function showPage(pages, previews, index) {
    Array.prototype.forEach.call(switcher.querySelectorAll("button"), function (pageButton, at) {
      pageButton.classList.toggle("on", at === index);
      if (at === index) pageButton.setAttribute("aria-current", "page"); else pageButton.removeAttribute("aria-current");
    });
    viewer.setAttribute("data-file-page", String(index + 1));
    if (pages.length > 1) linesPage.textContent = "（第 " + (index + 1) + " / " + pages.length + " 页）";
    showImage(previews[index], pages[index], OcrOverlay.fillLines(tbody, pages[index].details, low));
  }

  form.addEventListener("submit", function (event) {
    if (!window.fetch || !window.FormData) return; // the server-rendered fallback
    event.preventDefault();
    if (!input.files.length) { fail("请选择要识别的图片文件"); return; }
    var file = input.files[0];
    var download = responseFormat && responseFormat.value !== "json";
    var done = "";
    button.disabled = true;
    statusText.textContent = "识别中……";
    errorBox.hidden = true;
    fetch(form.getAttribute("data-api"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.redirected && response.url.indexOf("/login/") >= 0) {
        throw new Error("登录已过期，请刷新页面后重新登录");
      }
      if (download && response.ok) {
        return response.blob().then(function (blob) {
          var name = attachmentName(response.headers.get("Content-Disposition"), file.name);
          save(blob, name);
          done = "已下载 " + name;
          return null;
        });
      }
      return response.json().catch(function () {
        throw new Error("服务器返回了无法解析的响应（HTTP " + response.status + "），请刷新页面后重试");
      });
    }).then(function (body) {
      if (body === null) return; // saved as a file
      if (!body.success) { fail(body.message || body.error || "识别失败"); return; }
      section.hidden = false;
      meta.textContent = file.name + " · " + (body.details || []).length + " 行 · 耗时 " + body.processing_time + " 秒";
      textOut.textContent = body.text;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = null;
      OcrOverlay.clear(switcher);
      switcher.hidden = true;
      linesPage.textContent = "";
      if (body.previews) {
        var pages = body.pages && body.pages.length ? body.pages : [body];
        if (pages.length > 1) {
          pages.forEach(function (page, index) {
            var pageButton = document.createElement("button");
            pageButton.type = "button";
            pageButton.textContent = String(index + 1);
            pageButton.setAttribute("data-file-page", String(index + 1));
            pageButton.addEventListener("click", function () { showPage(pages, body.previews, index); });
            switcher.appendChild(pageButton);
          });
          switcher.insertBefore(document.createTextNode("共 " + pages.length + " 页："), switcher.firstChild);
          switcher.hidden = false;
        }
        showPage(pages, body.previews, 0);
        return;
      }
      showImage(URL.createObjectURL(file), body, OcrOverlay.fillLines(tbody, body.details, low));
    }).catch(function (error) {
      fail(error.message || "网络错误");
    }).then(function () {
      button.disabled = false;
      statusText.textContent = done;
    });
  });
})();
