// Draw every chart of the page: each <div class="chart" data-figure="ID"> reads its Plotly
// figure from the <script type="application/json" id="ID"> beside it (no inline scripts).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || typeof Plotly === "undefined") { return; }
    var figure = JSON.parse(source.textContent);
    var config = { displaylogo: false, responsive: true, locale: document.documentElement.lang };
    Plotly.newPlot(el, figure.data, figure.layout || {}, config).then(function () {
      el.setAttribute("data-rendered", "true");
    });
    el.on && el.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      var link = point && point.customdata;
      if (typeof link === "string" && link.charAt(0) === "/") { window.location.href = link; }
    });
  });
});
