// The review page's keyboard and liveness: j/k move between claims, c opens the comment box of the current one,
// the "Show only changes" box applies at once, and a heartbeat tells other reviewers the page is still open.
(function () {
  "use strict";
  var desk = document.querySelector(".review-desk");
  if (!desk) { return; }

  var claims = function () {
    return Array.prototype.filter.call(document.querySelectorAll("article.claim"), function (el) {
      return el.offsetParent !== null;
    });
  };
  var current = -1;

  function focusClaim(index) {
    var list = claims();
    if (!list.length) { return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (el) { el.classList.remove("current"); });
    list[current].classList.add("current");
    list[current].focus();
    list[current].scrollIntoView({ block: "start" });
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) { return; }
    var list = claims();
    var focused = list.indexOf(document.activeElement && document.activeElement.closest("article.claim"));
    if (focused >= 0) { current = focused; }
    if (event.key === "j") { focusClaim(current + 1); event.preventDefault(); }
    else if (event.key === "k") { focusClaim(current < 0 ? 0 : current - 1); event.preventDefault(); }
    else if (event.key === "c" && current >= 0) {
      var box = list[current].querySelector("details.comment-box");
      if (box) { box.open = true; box.querySelector("textarea").focus(); event.preventDefault(); }
    }
  });

  // Without this script the box is sent with the form's Show button; with it, it applies at once.
  var only = document.getElementById("id_only");
  if (only && only.form) {
    only.addEventListener("change", function () { only.form.submit(); });
  }

  var url = desk.getAttribute("data-heartbeat-url");
  var seconds = parseInt(desk.getAttribute("data-heartbeat-seconds"), 10) || 60;
  var token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (url && token && window.fetch) {
    window.setInterval(function () {
      if (document.visibilityState === "hidden") { return; }
      window.fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": token.value }
      }).catch(function () { /* a missed beat only makes the page look left a little sooner */ });
    }, seconds * 1000);
  }
}());
