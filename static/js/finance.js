// Forecast charts (Chart.js, served by the app). Data comes from json_script blocks; every
// chart has a table with the same figures next to it. Labels are translated by the page's
// JavaScript catalogue (Django's JavaScriptCatalog, loaded by base.html); amounts follow the
// page's language (<html lang>).
(function () {
  "use strict";
  const gettext = window.gettext || ((text) => text);

  function readData(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function moneyFormatter(currency) {
    const format = new Intl.NumberFormat(document.documentElement.lang || undefined, { style: "currency", currency: currency, maximumFractionDigits: 0 });
    return (value) => format.format(value);
  }

  function forecastChart(canvas, data) {
    const money = moneyFormatter(data.currency);
    return new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "line", label: "P90", data: data.p90, borderColor: "rgba(37, 99, 235, 0.35)", pointRadius: 0, fill: false },
          { type: "line", label: "P10", data: data.p10, borderColor: "rgba(37, 99, 235, 0.35)", backgroundColor: "rgba(37, 99, 235, 0.15)", pointRadius: 0, fill: "-1" },
          { type: "line", label: gettext("Expected"), data: data.expected, borderColor: "rgb(29, 78, 216)", backgroundColor: "rgb(29, 78, 216)", borderWidth: 2 },
          { type: "bar", label: gettext("Actual revenue"), data: data.actual, backgroundColor: "rgba(22, 128, 61, 0.6)" },
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

  function pastChart(canvas, data, currency) {
    const money = moneyFormatter(currency);
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: gettext("Pipeline value"), data: data.pipeline, backgroundColor: "rgba(37, 99, 235, 0.55)" },
          { label: gettext("Actual revenue"), data: data.actual, backgroundColor: "rgba(22, 128, 61, 0.6)" },
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
    const main = document.getElementById("forecast-chart");
    if (main) {
      main.dataset.ready = String(Boolean(forecastChart(main, data)));
    }
    const past = document.getElementById("past-chart");
    if (past) {
      pastChart(past, data.past, data.currency);
    }
  });
})();
