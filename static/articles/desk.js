// The writing desk: statuses beside each sentence as the editor types, sections added, moved and removed
// on the page, and sources added without leaving it. The page works without this script; it only saves
// page loads.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var desk = document.getElementById("writing-desk");
    var form = document.getElementById("desk-form");
    if (!desk || !form) { return; }
    var checkUrl = desk.dataset.checkUrl;
    var sourceUrl = desk.dataset.sourceUrl;
    var sections = document.getElementById("desk-sections");
    var template = document.getElementById("desk-section-template");
    var state = document.getElementById("desk-check-state");
    var lastProse = null;
    var timer = null;
    var sequence = 0;
    var newCount = 0;

    function csrf() {
      var field = form.querySelector("input[name=csrfmiddlewaretoken]");
      return field ? field.value : "";
    }

    function fieldsets() { return Array.prototype.slice.call(sections.querySelectorAll(".desk-section")); }

    // Reply boxes inside an evidence panel keep what the editor was typing when the panel is redrawn.
    function replaceKeepingReplies(panel, html) {
      var kept = {};
      panel.querySelectorAll("textarea[form]").forEach(function (box) { kept[box.id] = box.value; });
      panel.innerHTML = html;
      Object.keys(kept).forEach(function (id) {
        var box = document.getElementById(id);
        if (box) { box.value = kept[id]; }
      });
    }

    function check() {
      if (!checkUrl) { return; }
      var mine = ++sequence;
      state.textContent = "Checking…";
      fetch(checkUrl, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: {"X-CSRFToken": csrf(), "Accept": "application/json"}
      }).then(function (response) {
        if (!response.ok) { throw new Error("The check failed (" + response.status + ")."); }
        return response.json();
      }).then(function (answer) {
        if (mine !== sequence) { return; }
        // The answer lists only sections with a heading or prose, in page order.
        var filled = fieldsets().filter(function (set) {
          return set.querySelector(".desk-heading").value.trim() || set.querySelector(".desk-prose-text").value.trim();
        });
        filled.forEach(function (set, index) {
          var found = answer.sections[index];
          if (found) { replaceKeepingReplies(set.querySelector(".desk-evidence"), found.html); }
        });
        document.getElementById("desk-reference-list").innerHTML = answer.references_html;
        var blockers = document.getElementById("desk-article-blockers");
        blockers.textContent = "";
        if (answer.article_blockers.length) {
          var heading = document.createElement("h2");
          heading.textContent = "What stops publication";
          var list = document.createElement("ul");
          answer.article_blockers.forEach(function (text) {
            var item = document.createElement("li");
            item.textContent = text;
            list.appendChild(item);
          });
          blockers.appendChild(heading);
          blockers.appendChild(list);
        }
        var count = answer.problems.length;
        state.textContent = count ? count + " problem(s) to fix before saving." : "Checked; not saved yet.";
      }).catch(function (error) {
        if (mine === sequence) { state.textContent = error.message; }
      });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(check, 600);
    }

    form.addEventListener("input", function (event) {
      if (event.target.getAttribute("form")) { return; }  // a reply box belongs to another form
      schedule();
    });
    form.addEventListener("focusin", function (event) {
      if (event.target.classList.contains("desk-prose-text")) { lastProse = event.target; }
    });

    function wire(set) {
      var buttons = set.querySelector(".desk-section-buttons");
      if (!buttons) { return; }
      buttons.hidden = false;
      buttons.querySelector(".desk-up").addEventListener("click", function () {
        var before = set.previousElementSibling;
        if (before) { sections.insertBefore(set, before); schedule(); set.querySelector(".desk-up").focus(); }
      });
      buttons.querySelector(".desk-down").addEventListener("click", function () {
        var after = set.nextElementSibling;
        if (after) { sections.insertBefore(after, set); schedule(); set.querySelector(".desk-down").focus(); }
      });
      buttons.querySelector(".desk-remove").addEventListener("click", function () {
        var heading = set.querySelector(".desk-heading").value || "this section";
        if (window.confirm("Remove " + heading + " and its sentences when you save?")) {
          set.remove();
          schedule();
        }
      });
    }

    function uniqueIds(set) {
      newCount += 1;
      set.querySelectorAll("[id]").forEach(function (element) {
        var label = set.querySelector("label[for='" + element.id + "']");
        element.id = element.id + "-added-" + newCount;
        if (label) { label.htmlFor = element.id; }
      });
    }

    fieldsets().forEach(wire);
    var add = form.querySelector(".desk-add-section");
    if (add && template) {
      add.hidden = false;
      add.addEventListener("click", function () {
        var set = template.content.firstElementChild.cloneNode(true);
        uniqueIds(set);
        sections.appendChild(set);
        wire(set);
        set.querySelector(".desk-heading").focus();
      });
    }

    var sourceForm = document.getElementById("desk-source-form");
    if (sourceForm && sourceUrl) {
      var answer = document.getElementById("desk-source-answer");
      var byHand = document.getElementById("desk-by-hand");
      sourceForm.addEventListener("submit", function (event) {
        event.preventDefault();
        answer.textContent = "Looking it up…";
        fetch(sourceUrl, {
          method: "POST", body: new FormData(sourceForm), credentials: "same-origin",
          headers: {"X-CSRFToken": csrf(), "Accept": "application/json"}
        }).then(function (response) { return response.json(); }).then(function (result) {
          answer.textContent = result.message;
          if (result.by_hand) {
            byHand.hidden = false;
            byHand.querySelector("input[name=by_hand]").value = "1";
            byHand.querySelector("input[name=title]").focus();
          }
          if (result.ok && result.marker) {
            byHand.hidden = true;
            byHand.querySelector("input[name=by_hand]").value = "";
            var target = lastProse || form.querySelector(".desk-prose-text");
            if (target) {
              var at = target.selectionEnd || target.value.length;
              target.value = target.value.slice(0, at) + " " + result.marker + target.value.slice(at);
              schedule();
            }
          }
        }).catch(function () { answer.textContent = "The look-up failed; try again."; });
      });
    }
  });
}());
