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
