// Move keyboard and screen-reader focus to the error summary after a failed
// submit, as the GOV.UK pattern does; the page works without this script.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
});
