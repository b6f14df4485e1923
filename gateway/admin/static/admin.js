// The console's only script (no inline handlers: the Content-Security-Policy allows none).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});

// Forms that change something hard to undo ask first (data-confirm holds the question).
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
});

// A form marked data-once is sent once: its button is disabled on the first submit (the
// server also refuses a second job for the same form token).
document.querySelectorAll("form[data-once]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; b.textContent = "Uploading…"; });
  });
});

// An import's progress bar: poll until it is done, then show the result.
document.querySelectorAll("[data-progress-url]").forEach(function (box) {
  function poll() {
    fetch(box.dataset.progressUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (p) {
        box.querySelector("progress").value = p.percent;
        box.querySelector("[data-percent]").textContent = p.percent;
        box.querySelector("[data-rows]").textContent = p.rows;
        if (p.status === "done") { window.location.reload(); } else { setTimeout(poll, 1000); }
      }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
});

// Charts (gateway/admin/charts.py): Chart.js draws each canvas from its data-chart JSON.
var drawn = [];
function drawCharts(root) {
  if (typeof Chart === "undefined") { return; }
  drawn.forEach(function (chart) { chart.destroy(); });
  drawn = [];
  root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    canvas.parentElement.style.height = (canvas.parentElement.dataset.height || 280) + "px";
    var chart = new Chart(canvas, JSON.parse(canvas.dataset.chart));
    drawn.push(chart);
    var sorter = canvas.parentElement.parentElement.querySelector("select[data-sort-chart]");
    if (sorter) { sorter.addEventListener("change", function () { sortFill(chart, sorter.value); }); }
  });
}

// The slot-fill chart's order: fullest first, by name, or most places first.
function sortFill(chart, order) {
  var set = chart.data.datasets[0];
  var rows = chart.data.labels.map(function (label, i) {
    return {label: label, share: set.data[i], booked: set.booked[i], capacity: set.capacity[i]};
  });
  rows.sort(function (a, b) {
    if (order === "name") { return a.label.localeCompare(b.label); }
    if (order === "places") { return b.capacity - a.capacity; }
    return b.share - a.share;
  });
  chart.data.labels = rows.map(function (r) { return r.label; });
  set.data = rows.map(function (r) { return r.share; });
  set.booked = rows.map(function (r) { return r.booked; });
  set.capacity = rows.map(function (r) { return r.capacity; });
  chart.update();
}
drawCharts(document);

// The dashboard refreshes itself: the same page is fetched again and its live part swapped.
document.querySelectorAll("[data-refresh]").forEach(function (live) {
  var seconds = parseInt(live.dataset.refresh, 10) || 30;
  setInterval(function () {
    fetch(window.location.href, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(live.id);
      if (fresh) { live.innerHTML = fresh.innerHTML; drawCharts(live); }
    }).catch(function () { /* keep the last figures; try again at the next tick */ });
  }, seconds * 1000);
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
