/* After an in-place action, move the keyboard focus where a screen reader user
   needs it: to the first field the service refused, else to the message that
   says what happened. No other behaviour lives here: htmx does the requests. */
document.addEventListener("htmx:afterSettle", function (event) {
  var swapped = event.detail.elt;
  if (!swapped || !swapped.querySelector) return;
  var invalid = swapped.querySelector("[aria-invalid=true], .has-error input, .has-error select, .has-error textarea");
  if (invalid) { invalid.focus(); return; }
  var alert = swapped.querySelector(".form-errors");
  if (alert) { alert.setAttribute("tabindex", "-1"); alert.focus(); return; }
  var message = document.querySelector("#workspace .messages .message");
  if (message && swapped.id === "workspace") { message.setAttribute("tabindex", "-1"); message.focus(); }
});
