// Wellness pages: dashboard tabs and the Chart.js charts. Data comes from json_script blocks
// (no inline scripts: the Content-Security-Policy forbids them); each chart has a table too.
// Labels are translated by the page's JavaScript catalogue (JavaScriptCatalog, in base.html).
(() => {
  const charts = new WeakMap();

  function readData(canvas) {
    const source = document.getElementById(canvas.dataset.source);
    return source ? JSON.parse(source.textContent) : null;
  }

  const builders = {
    history(data, theme, canvas) {
      const [score, stress] = theme.series;
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            { label: canvas.dataset.stressLabel || "Stress", data: data.stress, borderColor: stress, backgroundColor: stress, borderDash: [6, 3], tension: 0.2 },
            { label: canvas.dataset.scoreLabel || "Wellness score", data: data.score, borderColor: score, backgroundColor: score, tension: 0.2 },
          ],
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          scales: { y: { min: 0, max: 100 } },
        },
      };
    },
  };

  function drawCharts(root) {
    if (typeof Chart === "undefined") return;
    const theme = window.coopChartTheme(); // Okabe-Ito colours for light or dark: static/js/app.js
    root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      if (charts.has(canvas)) return;
      const data = readData(canvas);
      const build = builders[canvas.dataset.chart];
      if (data && build) charts.set(canvas, new Chart(canvas, build(data, theme, canvas)));
    });
  }

  function selectTab(tab) {
    const tablist = tab.closest("[role=tablist]");
    tablist.querySelectorAll("[role=tab]").forEach((other) => {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      const panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    });
  }

  document.addEventListener("click", (event) => {
    const tab = event.target.closest("[role=tablist] [role=tab]");
    if (!tab) return;
    event.preventDefault();
    selectTab(tab);
  });

  document.addEventListener("DOMContentLoaded", () => drawCharts(document));
  document.addEventListener("htmx:afterSettle", (event) => drawCharts(event.target));
})();
