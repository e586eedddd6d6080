// payscope's own progressive enhancement. Every page works without this file; it only makes things smoother:
// - the "Add Data Connection" side panel opens in place instead of loading `?add=1`, and closes with Escape;
// - buttons of a submitted form are disabled so a slow Stripe check is not submitted twice;
// - elements with `data-refresh="N"` reload the page every N seconds while an import runs.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
        if (button.dataset.busy) { button.textContent = button.dataset.busy; }
      });
    }, 0);
  });

  function openPanel(event) {
    var template = document.getElementById("add-panel-template");
    if (!template || document.getElementById("add-panel")) { return; }
    event.preventDefault();
    document.body.appendChild(template.content.cloneNode(true));
    history.replaceState(null, "", "?add=1");
    var panel = document.getElementById("add-panel");
    var first = panel && panel.querySelector("input, select");
    if (first) { first.focus(); }
  }

  function closePanel(event) {
    var panel = document.getElementById("add-panel");
    if (!panel) { return; }
    if (event) { event.preventDefault(); }
    var backdrop = document.getElementById("add-panel-backdrop");
    panel.remove();
    if (backdrop) { backdrop.remove(); }
    history.replaceState(null, "", location.pathname);
    var opener = document.getElementById("add-connection");
    if (opener) { opener.focus(); }
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("a, button, div") : null;
    if (!target) { return; }
    if (target.id === "add-connection") { openPanel(event); }
    if (target.id === "close-panel" || target.id === "add-panel-backdrop") { closePanel(event); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closePanel(null); }
  });

  var refresh = document.querySelector("[data-refresh]");
  if (refresh) {
    var seconds = parseInt(refresh.dataset.refresh, 10) || 2;
    window.setTimeout(function () {
      // Do not reload over a form the user is filling in.
      if (!document.activeElement || !document.activeElement.form) { location.reload(); }
      else { window.setTimeout(function () { location.reload(); }, seconds * 1000); }
    }, seconds * 1000);
  }
})();
