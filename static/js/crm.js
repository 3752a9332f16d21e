// Pipeline board: drag a deal card onto another stage column. The drop fills the card's own
// "Move to" form (the keyboard path) and submits it through htmx, which swaps in the
// re-rendered board with updated counts and totals. No inline scripts (CSP).
document.addEventListener("dragstart", (event) => {
  const card = event.target.closest && event.target.closest(".deal-card");
  if (!card) return;
  event.dataTransfer.setData("text/plain", card.dataset.deal);
  event.dataTransfer.effectAllowed = "move";
  card.classList.add("dragging");
});

document.addEventListener("dragend", (event) => {
  const card = event.target.closest && event.target.closest(".deal-card");
  if (card) card.classList.remove("dragging");
});

function columnAt(event) {
  return event.target.closest && event.target.closest(".board-column");
}

document.addEventListener("dragover", (event) => {
  const column = columnAt(event);
  if (!column) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  column.classList.add("drop-target");
});

document.addEventListener("dragleave", (event) => {
  const column = columnAt(event);
  if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
});

document.addEventListener("drop", (event) => {
  const column = columnAt(event);
  if (!column) return;
  event.preventDefault();
  column.classList.remove("drop-target");
  const dealId = event.dataTransfer.getData("text/plain");
  const card = document.querySelector(`.deal-card[data-deal="${CSS.escape(dealId)}"]`);
  if (!card || card.closest(".board-column") === column) return;
  const form = card.querySelector(".move-form");
  form.elements.stage.value = column.dataset.stage;
  form.requestSubmit();
});

// Irreversible actions (closing a deal) ask first: a submit button with data-confirm.
document.addEventListener("submit", (event) => {
  const message = event.submitter && event.submitter.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Enter in the deal form's contact search looks contacts up; it must not submit the deal.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches && event.target.matches("#contact-search")) {
    event.preventDefault();
  }
});

// After a move the board is re-rendered: put the keyboard focus back on the moved deal.
let movedDeal = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  const card = event.target.closest && event.target.closest(".deal-card");
  movedDeal = card && event.target.matches(".move-form") ? card.dataset.deal : null;
});
document.addEventListener("htmx:afterSettle", () => {
  if (!movedDeal) return;
  const title = document.querySelector(`.deal-card[data-deal="${CSS.escape(movedDeal)}"] .deal-title`);
  movedDeal = null;
  if (title) title.focus();
});

// Lists with bulk actions: tick rows with the mouse (anywhere on the row, shift-click for a
// range) or the keyboard (Tab to a row's checkbox, Space), or every row of the page at once;
// the bar counts them and shows only the fields the chosen action needs.
let lastTicked = null;

function bulkBoxes(table) {
  return Array.from(table.querySelectorAll('tbody input[name="ids"]'));
}

function bulkRefresh(table) {
  const boxes = bulkBoxes(table);
  const ticked = boxes.filter((box) => box.checked);
  boxes.forEach((box) => box.closest("tr").classList.toggle("selected", box.checked));
  const all = table.querySelector("[data-bulk-all]");
  if (all) {
    all.checked = ticked.length > 0 && ticked.length === boxes.length;
    all.indeterminate = ticked.length > 0 && ticked.length < boxes.length;
  }
  const count = document.querySelector("[data-bulk-count]");
  if (count) count.textContent = String(ticked.length);
  const apply = document.querySelector("[data-bulk-apply]");
  if (apply) apply.disabled = ticked.length === 0;
}

function bulkShowFields() {
  const action = document.querySelector("[data-bulk-action]");
  if (!action) return;
  document.querySelectorAll("[data-bulk-for]").forEach((field) => {
    field.hidden = !field.dataset.bulkFor.split(" ").includes(action.value);
  });
}

document.addEventListener("click", (event) => {
  const table = event.target.closest && event.target.closest("table.selectable");
  if (!table) return;
  const row = event.target.closest("tbody tr");
  if (event.target.matches("[data-bulk-all]")) {
    bulkBoxes(table).forEach((box) => { box.checked = event.target.checked; });
  } else if (row && !event.target.closest("a")) {
    const box = row.querySelector('input[name="ids"]');
    if (!box) return;
    if (event.target !== box) box.checked = !box.checked;
    const boxes = bulkBoxes(table);
    if (event.shiftKey && lastTicked && boxes.includes(lastTicked)) {
      const [from, to] = [boxes.indexOf(lastTicked), boxes.indexOf(box)].sort((a, b) => a - b);
      boxes.slice(from, to + 1).forEach((other) => { other.checked = box.checked; });
    }
    lastTicked = box;
  }
  bulkRefresh(table);
});

document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("[data-bulk-action]")) bulkShowFields();
  const table = event.target.closest && event.target.closest("table.selectable");
  if (table) bulkRefresh(table);
});

function bulkInit() {
  bulkShowFields();
  document.querySelectorAll("table.selectable").forEach(bulkRefresh);
}
document.addEventListener("DOMContentLoaded", bulkInit);
document.addEventListener("htmx:afterSettle", bulkInit);
