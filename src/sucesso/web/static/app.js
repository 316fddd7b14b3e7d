// Draw every chart of the page: each <div class="chart" data-figure="ID"> reads its Plotly
// figure from the <script type="application/json" id="ID"> beside it (no inline scripts).
// A point whose customdata is a path ("/accounts?moved=churn&month=2025-03") links there: the
// pointer shows it on hover, a click follows it (figures with links hover point by point).
document.addEventListener("DOMContentLoaded", function () {
  function linkOf(event) {
    var point = event.points && event.points[0];
    var link = point && point.customdata;
    return typeof link === "string" && link.charAt(0) === "/" ? link : null;
  }

  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || typeof Plotly === "undefined") { return; }
    var figure = JSON.parse(source.textContent);
    var config = { displaylogo: false, responsive: true, locale: document.documentElement.lang };
    Plotly.newPlot(el, figure.data, figure.layout || {}, config).then(function () {
      el.setAttribute("data-rendered", "true");
    });
    if (!el.on) { return; }
    el.on("plotly_hover", function (event) {
      var drag = el.querySelector(".nsewdrag");
      if (drag) { drag.style.cursor = linkOf(event) ? "pointer" : ""; }
    });
    el.on("plotly_unhover", function () {
      var drag = el.querySelector(".nsewdrag");
      if (drag) { drag.style.cursor = ""; }
    });
    el.on("plotly_click", function (event) {
      var link = linkOf(event);
      if (link) { window.location.href = link; }
    });
  });
});
