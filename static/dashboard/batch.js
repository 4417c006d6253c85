/* /batch and a task's page: progress bars and counts follow the tasks without reloading the page. The list
   polls batch/state for its unfinished rows, the task page polls its own state URL, every 1.5 seconds. */
(function () {
  "use strict";
  var INTERVAL = 1500;
  // The statuses come from the server (core/statuses.py) on the script tag.
  var UNFINISHED = document.currentScript.getAttribute("data-unfinished").split(" ");

  function unfinished(status) { return UNFINISHED.indexOf(status) >= 0; }

  function setText(root, selector, value) {
    var node = root.querySelector(selector);
    if (node && value !== undefined && value !== null) node.textContent = String(value);
  }

  /* Progress bar, counts, status badge and which buttons show, for one task's element. */
  function apply(root, state) {
    root.setAttribute("data-status", state.status);
    var progress = root.querySelector("[data-progress]");
    if (progress) {
      var pct = Math.max(0, Math.min(100, Number(state.progress) || 0));
      progress.querySelector(".bar").style.width = pct + "%";
      progress.setAttribute("aria-valuenow", pct.toFixed(1));
      progress.classList.toggle("done", state.status === "completed");
      setText(progress, "[data-progress-label]", pct.toFixed(1) + "%");
    }
    var badge = root.querySelector("[data-status-label]") || document.getElementById("task-status");
    if (badge) {
      badge.textContent = state.status_label;
      badge.className = "badge s-" + state.status;
    }
    setText(root, "[data-processed]", state.processed_files);
    setText(root, "[data-total]", state.total_files);
    setText(root, "[data-success]", state.success_files);
    setText(root, "[data-failed]", state.failed_files);
    setText(root, "[data-elapsed]", state.elapsed);
    setText(root, "[data-rate]", state.pages_per_second === null ? "—" : state.pages_per_second);
    setText(root, "[data-eta]", state.eta);
    setText(root, "[data-error]", state.error || "");
    setText(root, "[data-started]", state.started_at);
    setText(root, "[data-completed]", state.completed_at);
    Array.prototype.forEach.call(root.querySelectorAll("[data-when]"), function (node) {
      node.hidden = node.getAttribute("data-when").split(" ").indexOf(state.status) < 0;
    });
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
  }

  function later(fn) { window.setTimeout(fn, INTERVAL); }

  /* The task list. */
  var table = document.getElementById("task-table");
  if (table) {
    var pollList = function () {
      var rows = Array.prototype.filter.call(table.querySelectorAll("tr[data-task-id]"), function (row) {
        return unfinished(row.getAttribute("data-status"));
      });
      if (!rows.length) { later(pollList); return; }
      var ids = rows.map(function (row) { return row.getAttribute("data-task-id"); });
      getJson(table.getAttribute("data-state-url") + "?ids=" + encodeURIComponent(ids.join(",")))
        .then(function (body) {
          body.tasks.forEach(function (state) {
            var row = table.querySelector('tr[data-task-id="' + CSS.escape(state.task_id) + '"]');
            if (row) apply(row, state);
          });
        })
        .catch(function () { /* a missed poll is retried */ })
        .then(function () { later(pollList); });
    };
    later(pollList);
  }

  /* One task's page: its counts, and each listed page's status, confidence, time and error, as a reload
     would show them. A task still `scanning` has no rows yet: the page reloads once its files are listed. */
  var task = document.getElementById("task");
  if (task) {
    var pageTable = document.getElementById("page-table");
    var low = pageTable ? Number(pageTable.getAttribute("data-low")) || 0 : 0;
    var pollTask = function () {
      getJson(task.getAttribute("data-state-url")).then(function (state) {
        if (task.getAttribute("data-status") === "scanning" && state.status !== "scanning") {
          window.location.reload();
          return;
        }
        apply(task, state);
        (state.pages || []).forEach(function (page) {
          var row = pageTable && pageTable.querySelector('tr[data-page-id="' + CSS.escape(page.page_id) + '"]');
          if (!row) return;
          var badge = row.querySelector("[data-page-status]");
          badge.textContent = page.status_label;
          badge.className = "badge s-" + page.status;
          row.classList.toggle("low", page.confidence !== null && page.confidence < low);
          setText(row, "[data-page-confidence]", page.confidence === null ? "—" : page.confidence.toFixed(3));
          setText(row, "[data-page-time]", page.processing_time === null ? "—" : page.processing_time);
          var error = row.querySelector("[data-page-error]");
          if (error) {
            error.textContent = page.error || "";
            error.hidden = !page.error;
          }
        });
        if (unfinished(state.status)) later(pollTask);
      }).catch(function () { later(pollTask); });
    };
    if (unfinished(task.getAttribute("data-status"))) later(pollTask);
  }

  /* Confirmation before deleting. */
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
})();
