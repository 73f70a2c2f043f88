// Move keyboard and screen-reader focus to the error summary after a failed
// submit, as the GOV.UK pattern does; the page works without this script.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
});

// A summary link focuses its field without putting "#id_..." into the
// address: the form posts back to that address, and on the next failed
// submit the browser would focus the field again instead of the summary.
// The field's label (or a radio group's legend) is scrolled into view too.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
  if (!link) { return; }
  var input = document.getElementById(link.getAttribute("href").slice(1));
  if (!input) { return; }
  event.preventDefault();
  var fieldset = input.closest("fieldset");
  var caption = (fieldset && fieldset.querySelector("legend")) ||
    document.querySelector("label[for='" + input.id + "']") || input;
  caption.scrollIntoView();
  input.focus({ preventScroll: true });
});

// Inbox: one box ticks every request on the page. Without the script the
// box stays hidden and each request is ticked on its own.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.querySelector("[data-pick-all]");
  if (!all) { return; }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name='bulk-selected']"));
  function sync() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  all.closest("[hidden]").hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) { box.addEventListener("change", sync); });
  sync();
});
