// The console's only script (no inline handlers: the Content-Security-Policy allows none).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});

// District pickers (_place_picker.html): only the chosen state's districts are offered, and
// choosing a district first fills in its state.
document.querySelectorAll("select[data-district-of]").forEach(function (districts) {
  var states = document.getElementById(districts.dataset.districtOf);
  function showState() {
    districts.querySelectorAll("optgroup").forEach(function (group) {
      var shown = !states.value || group.label === states.value;
      group.hidden = !shown;
      group.disabled = !shown;
    });
    var chosen = districts.selectedOptions[0];
    if (chosen && chosen.parentElement.disabled) { districts.value = ""; }
  }
  districts.addEventListener("change", function () {
    var chosen = districts.selectedOptions[0];
    if (chosen && chosen.parentElement.tagName === "OPTGROUP") {
      states.value = chosen.parentElement.label;
      showState();
    }
  });
  states.addEventListener("change", showState);
  showState();
});
