// The console's only script (no inline handlers: the Content-Security-Policy allows none).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
