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

// The login expires after a while. Before a form is sent, ask whether it
// is still valid; if not, the person enters the password in a dialog and
// the form is then sent as it is, files included. Without this script the
// server keeps the form's text through the login instead (core/kept.py).
document.addEventListener("DOMContentLoaded", function () {
  var dialog = document.querySelector("[data-relogin]");
  if (!dialog || !window.fetch || !dialog.showModal) { return; }
  var statusUrl = dialog.getAttribute("data-status-url");
  var loginForm = dialog.querySelector("[data-relogin-form]");
  var error = dialog.querySelector("#relogin-error");
  var pending = null;
  // Accounts with two-step login: after the password the server answers
  // with its code page; its form is taken into the dialog (labels, hints
  // and errors as the server wrote them) and sent from there.
  var passwordGroup = dialog.querySelector("#relogin-password").closest(".form-group");
  var loginButton = loginForm.querySelector("button[type='submit']");
  var codeForm = null;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : null;
  }
  function loggedIn() {
    return fetch(statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.status !== 401; },
            function () { return true; });  // offline: let the browser try
  }
  function send(form, submitter) {
    form.setAttribute("data-relogin-checked", "");
    if (form.requestSubmit) { form.requestSubmit(submitter || undefined); } else { form.submit(); }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "").toLowerCase() !== "post") { return; }
    if (form.hasAttribute("data-relogin-form") || form.hasAttribute("data-no-relogin")) { return; }
    if (form.hasAttribute("data-relogin-checked")) {
      form.removeAttribute("data-relogin-checked");
      return;
    }
    event.preventDefault();
    var submitter = event.submitter;
    loggedIn().then(function (yes) {
      if (yes) { send(form, submitter); return; }
      pending = { form: form, submitter: submitter };
      error.hidden = true;
      loginForm.reset();
      dialog.showModal();
      dialog.querySelector("#relogin-password").focus();
    });
  });

  dialog.querySelector("[data-relogin-cancel]").addEventListener("click", function () {
    dialog.close();
  });
  dialog.addEventListener("close", function () { secondStepEnd(); });

  function loggedInAgain() {
    // The login gave this browser a new form token: use it.
    var token = csrfToken();
    document.querySelectorAll("input[name='csrfmiddlewaretoken']").forEach(function (input) {
      if (token) { input.value = token; }
    });
    dialog.close();
    if (pending) { send(pending.form, pending.submitter); }
  }
  function secondStepEnd() {
    if (codeForm) { codeForm.remove(); codeForm = null; }
    passwordGroup.hidden = false;
    loginButton.hidden = false;
  }
  function secondStep(from) {
    var form = document.importNode(from, true);
    form.setAttribute("data-relogin-form", "");
    form.addEventListener("submit", sendCode);
    if (codeForm) { codeForm.replaceWith(form); } else { loginForm.after(form); }
    codeForm = form;
    passwordGroup.hidden = true;
    loginButton.hidden = true;
    form.querySelector("input[name='code']").focus();
  }
  function sendCode(event) {
    event.preventDefault();
    var form = event.target;
    var data = new FormData(form);
    data.set("csrfmiddlewaretoken", csrfToken() || data.get("csrfmiddlewaretoken"));
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        return loggedIn().then(function (yes) {
          if (yes) { loggedInAgain(); return; }
          var page = new DOMParser().parseFromString(html, "text/html");
          var again = page.querySelector("[data-second-step]");
          if (again) { secondStep(again); return; }
          // The password step expired meanwhile: start with the password again.
          secondStepEnd();
          error.textContent = dialog.getAttribute("data-error");
          error.hidden = false;
          dialog.querySelector("#relogin-password").focus();
        });
      });
  }

  loginForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(loginForm);
    data.set("csrfmiddlewaretoken", csrfToken() || data.get("csrfmiddlewaretoken"));
    fetch(loginForm.action, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        return loggedIn().then(function (yes) {
          if (yes) { loggedInAgain(); return; }
          var page = new DOMParser().parseFromString(html, "text/html");
          var second = page.querySelector("[data-second-step]");
          if (second) { error.hidden = true; secondStep(second); return; }
          var message = page.querySelector(".error-summary__list li, .error-message");
          error.textContent = message ? message.textContent.trim() : dialog.getAttribute("data-error");
          error.hidden = false;
          dialog.querySelector("#relogin-password").focus();
        });
      });
  });
});

// Photo picker: the file input is visually hidden behind its big label, so
// the names of the chosen files are listed under it (and read out).
// Without the script the files are still sent and listed on the next page.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches("[data-file-picker] input[type='file']")) { return; }
  var chosen = input.closest("[data-file-picker]").querySelector("[data-file-names]");
  chosen.textContent = "";
  if (!input.files || !input.files.length) { return; }
  var title = document.createElement("p");
  title.textContent = chosen.getAttribute("data-label");
  var list = document.createElement("ul");
  list.className = "file-list";
  Array.prototype.forEach.call(input.files, function (file) {
    var item = document.createElement("li");
    item.textContent = file.name;
    list.appendChild(item);
  });
  chosen.appendChild(title);
  chosen.appendChild(list);
});
