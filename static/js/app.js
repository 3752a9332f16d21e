// Behaviour shared by every page. No inline scripts: the Content-Security-Policy forbids them.

// Scripts run: the fallbacks for browsers without them (`.no-js-only`, e.g. a task's Save
// button next to its tick box, which htmx posts on change) are hidden.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
});

// The one search in the top bar: "/" focuses it from anywhere but a text field; the results
// drop down as you type (htmx), ArrowDown/ArrowUp walk them, Escape closes them.
function isTyping(target) {
  return target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function searchLinks(results) {
  return Array.from(results.querySelectorAll("a"));
}

document.addEventListener("keydown", (event) => {
  const input = document.getElementById("top-search");
  const results = document.getElementById("top-search-results");
  if (!input || !results) return;
  if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target)) {
    event.preventDefault();
    input.focus();
    input.select();
    return;
  }
  if (!input.closest("form").contains(event.target)) return;
  if (event.key === "Escape") {
    results.hidden = true;
    input.focus();
    return;
  }
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const links = searchLinks(results);
  if (results.hidden || links.length === 0) return;
  event.preventDefault();
  const at = links.indexOf(document.activeElement);
  const next = event.key === "ArrowDown" ? at + 1 : at - 1;
  if (next < 0) input.focus();
  else links[Math.min(next, links.length - 1)].focus();
});

document.addEventListener("htmx:afterSwap", (event) => {
  const results = event.detail.target;
  if (results && results.id === "top-search-results") {
    results.hidden = results.textContent.trim() === "";
  }
});

document.addEventListener("click", (event) => {
  const results = document.getElementById("top-search-results");
  if (results && !results.hidden && !event.target.closest(".top-search")) results.hidden = true;
});

document.addEventListener("focusin", (event) => {
  const results = document.getElementById("top-search-results");
  if (event.target.id === "top-search" && results && results.textContent.trim() !== "") {
    results.hidden = false;
  }
});

// Chart colours for Chart.js canvases (finance, wellness): the stylesheet's custom properties
// (--chart-1..3, the Okabe-Ito colours; --ink-muted, --line), resolved for the colour scheme
// in force, so the canvases follow light and dark mode as the rest of the page does.
window.coopChartTheme = () => {
  const probe = document.createElement("span");
  probe.hidden = true;
  document.body.append(probe);
  const resolve = (name) => {
    probe.style.color = `var(${name})`;
    return getComputedStyle(probe).color;
  };
  const theme = {
    series: [resolve("--chart-1"), resolve("--chart-2"), resolve("--chart-3")],
    text: resolve("--ink-muted"),
    grid: resolve("--line"),
    // "rgb(r, g, b)" with an opacity: for bands and translucent bars.
    faded: (color, alpha) => color.replace(/^rgb\((.*)\)$/, `rgba($1, ${alpha})`),
  };
  probe.remove();
  if (typeof Chart !== "undefined") {
    Chart.defaults.color = theme.text;
    Chart.defaults.borderColor = theme.grid;
  }
  return theme;
};
