// Forecast charts (Chart.js, served by the app). Data comes from json_script blocks; every
// chart has a table with the same figures next to it. The series names come translated in the
// canvas's data-*-label attributes.
(function () {
  "use strict";

  function readData(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function moneyFormatter(currency) {
    const format = new Intl.NumberFormat(document.documentElement.lang || undefined, { style: "currency", currency: currency, maximumFractionDigits: 0 });
    return (value) => format.format(value);
  }

  // Colours from the stylesheet (Okabe-Ito, light or dark): static/js/app.js.
  function forecastChart(canvas, data, theme) {
    const money = moneyFormatter(data.currency);
    const [expected, actual] = [theme.series[0], theme.series[2]];
    return new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "line", label: "P90", data: data.p90, borderColor: theme.faded(expected, 0.5), borderDash: [4, 4], pointRadius: 0, fill: false },
          { type: "line", label: "P10", data: data.p10, borderColor: theme.faded(expected, 0.5), borderDash: [4, 4], backgroundColor: theme.faded(expected, 0.15), pointRadius: 0, fill: "-1" },
          { type: "line", label: canvas.dataset.expectedLabel || "Expected", data: data.expected, borderColor: expected, backgroundColor: expected, borderWidth: 2 },
          { type: "bar", label: canvas.dataset.actualLabel || "Actual revenue", data: data.actual, backgroundColor: actual },
        ],
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0, callback: money } } },
        plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${money(item.raw)}` } } },
      },
    });
  }

  function pastChart(canvas, data, currency, theme) {
    const money = moneyFormatter(currency);
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: canvas.dataset.pipelineLabel || "Pipeline value", data: data.pipeline, backgroundColor: theme.series[0] },
          { label: canvas.dataset.actualLabel || "Actual revenue", data: data.actual, backgroundColor: theme.series[2] },
        ],
      },
      options: {
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0, callback: money } } },
        plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${money(item.raw)}` } } },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const data = readData("forecast-chart-data");
    if (!data || typeof Chart === "undefined") {
      return;
    }
    const theme = window.coopChartTheme();
    const main = document.getElementById("forecast-chart");
    if (main) {
      main.dataset.ready = String(Boolean(forecastChart(main, data, theme)));
    }
    const past = document.getElementById("past-chart");
    if (past) {
      pastChart(past, data.past, data.currency, theme);
    }
  });
})();
