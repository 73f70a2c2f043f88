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
