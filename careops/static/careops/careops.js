// Upload progress for evidence forms sent with htmx (hx-encoding=multipart/form-data).
document.addEventListener("htmx:xhr:progress", function (event) {
  const form = event.target.closest("form");
  const bar = form && form.querySelector("progress.upload-progress");
  if (bar && event.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});

// Form errors come back as 422 with the form to show again: swap them like a 200 (htmx 2
// leaves 4xx answers unswapped by default, which would hide the French error messages).
if (window.htmx) {
  htmx.config.responseHandling = [{ code: "422", swap: true }].concat(htmx.config.responseHandling);
}

// After a swap, keyboard and screen-reader users land on the news: the first field in error,
// else the refreshed status.
document.addEventListener("htmx:afterSwap", function (event) {
  const target = event.detail.target;
  if (!target || target.id !== "item-live") return;
  const invalid = target.querySelector("[aria-invalid=true]");
  const status = target.querySelector("#statut");
  const focus = invalid || status;
  if (focus) focus.focus();
});

// Controls that submit their form when changed (the language switch): no inline handler, so
// that the Content-Security-Policy can forbid inline script.
document.addEventListener("change", function (event) {
  const control = event.target.closest("[data-submit-on-change]");
  if (control && control.form) control.form.submit();
});

// Evidence forms: show only the attribute fields the chosen kind of evidence needs (fields carry
// data-kinds; without JavaScript every field stays visible and the server ignores the others).
function careopsKindFields(root) {
  (root || document).querySelectorAll("select[name=kind]").forEach(function (select) {
    const form = select.form;
    if (!form) return;
    const apply = function () {
      form.querySelectorAll("[data-kinds]").forEach(function (input) {
        const box = input.closest(".field, fieldset") || input;
        box.hidden = input.dataset.kinds.split(" ").indexOf(select.value) < 0;
      });
    };
    if (!select.dataset.kindsBound) {
      select.addEventListener("change", apply);
      select.dataset.kindsBound = "1";
    }
    apply();
  });
}
document.addEventListener("DOMContentLoaded", function () { careopsKindFields(document); });
document.addEventListener("htmx:afterSwap", function (event) { careopsKindFields(event.detail.target); });

// A table or drawing wider than its box scrolls inside it: make it reachable by the keyboard.
function careopsScrollables() {
  document.querySelectorAll("table.table, figure.drawing, pre").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
    } else if (box.getAttribute("tabindex") === "0" && box.dataset.keepTab === undefined && box.tagName === "TABLE") {
      box.removeAttribute("tabindex");
    }
  });
}
document.addEventListener("DOMContentLoaded", careopsScrollables);
window.addEventListener("resize", careopsScrollables);
document.addEventListener("htmx:afterSwap", careopsScrollables);
