// nianbao web: finding → cells and original; upload progress. No inline script, nothing remote.
(function () {
  "use strict";

  // Scroll an element to the middle of the pane that holds it, leaving the window where it is.
  function reveal(el) {
    var pane = el.closest(".pane");
    if (!pane) { el.scrollIntoView({ block: "center" }); return; }
    var top = el.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
    pane.scrollTop = Math.max(0, top - pane.clientHeight / 2 + el.offsetHeight / 2);
  }

  function clear(cls) {
    document.querySelectorAll("." + cls).forEach(function (el) { el.classList.remove(cls); });
  }

  function locations() {
    var el = document.getElementById("locations");
    if (!el) return {};
    try { return JSON.parse(el.textContent || "{}"); } catch (e) { return {}; }
  }

  function showBox(page, bbox) {
    var fig = document.querySelector('.pdf-page[data-page="' + page + '"]');
    if (!fig) return null;
    var box = fig.querySelector(".box");
    var w = parseFloat(fig.dataset.w), h = parseFloat(fig.dataset.h);
    if (box && bbox && bbox.length === 4 && w > 0 && h > 0) {
      box.style.left = (bbox[0] / w * 100) + "%";
      box.style.top = (bbox[1] / h * 100) + "%";
      box.style.width = ((bbox[2] - bbox[0]) / w * 100) + "%";
      box.style.height = ((bbox[3] - bbox[1]) / h * 100) + "%";
      box.hidden = false;
      return box;
    }
    return fig;
  }

  function showSource(loc) {
    document.querySelectorAll(".pdf-page .box").forEach(function (b) { b.hidden = true; });
    clear("hl-src");
    if (!loc) return;
    var target = null;
    if (loc.page) {
      target = showBox(loc.page, loc.bbox);
    } else if (loc.key) {
      target = document.querySelector('.original-pane [data-loc="' + CSS.escape(loc.key) + '"]');
      if (target) target.classList.add("hl-src");
    }
    if (target) reveal(target);
  }

  function selectFinding(li) {
    clear("selected");
    clear("hl");
    li.classList.add("selected");
    var cells = (li.dataset.cells || "").split(" ").filter(Boolean);
    var first = null;
    cells.forEach(function (path) {
      document.querySelectorAll('[data-path="' + CSS.escape(path) + '"]').forEach(function (td) {
        td.classList.add("hl");
        if (!first) first = td;
      });
    });
    if (first) reveal(first);
    var loc = null;
    if (li.dataset.page) {
      loc = { page: li.dataset.page, bbox: (li.dataset.bbox || "").split(",").filter(Boolean).map(parseFloat) };
    } else if (li.dataset.loc) {
      loc = { key: li.dataset.loc };
    }
    showSource(loc);
  }

  document.addEventListener("click", function (ev) {
    var go = ev.target.closest && ev.target.closest(".finding-go");
    if (go) {
      selectFinding(go.closest(".finding"));
      return;
    }
    var cell = ev.target.closest && ev.target.closest("td.value[data-path]");
    if (cell) {
      clear("hl");
      cell.classList.add("hl");
      var loc = locations()[cell.dataset.path];
      showSource(loc || null);
    }
  });

  // A report page opened at #f-<fingerprint> (after a review) shows that finding again.
  document.addEventListener("DOMContentLoaded", function () {
    if (location.hash.indexOf("#f-") === 0) {
      var li = document.getElementById(location.hash.slice(1));
      if (li) { selectFinding(li); reveal(li); }
    }
    var form = document.getElementById("upload-form");
    if (form && window.XMLHttpRequest && window.FormData) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var bar = document.getElementById("upload-progress");
        var status = document.getElementById("upload-status");
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.setRequestHeader("X-CSRF-Token", document.body.dataset.csrf || "");
        bar.hidden = false;
        xhr.upload.onprogress = function (e) {
          if (e.lengthComputable) { bar.value = Math.round(e.loaded / e.total * 100); status.textContent = "上传 " + bar.value + "%"; }
        };
        xhr.onload = function () {
          if (xhr.status < 400 && xhr.responseURL) { window.location.href = xhr.responseURL; return; }
          var msg = "上传失败";
          try { msg = JSON.parse(xhr.responseText).detail || msg; } catch (e) {
            var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
            var alert = doc.querySelector("[role=alert]");
            if (alert) msg = alert.textContent;
          }
          status.textContent = msg;
          status.className = "message error";
        };
        xhr.onerror = function () { status.textContent = "上传失败：无法连接服务"; status.className = "message error"; };
        xhr.send(new FormData(form));
      });
    }
  });
})();
