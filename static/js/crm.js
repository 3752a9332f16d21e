// Pipeline board: drag a deal card onto another stage column. The drop fills the card's own
// "Move to" form (the keyboard path) and submits it through htmx, which swaps in the moved
// card and the updated counts and totals. No inline scripts (CSP).
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

// A move answers the moved card (and, out of band, every column's count and total): put the
// card into its new column, in the board's order among the cards loaded there. A card whose
// place is past the loaded ones waits above the loader and gives way to the server's copy
// when that page arrives.
function comesBefore(card, other, sort) {
  const a = card.dataset.key, b = other.dataset.key;
  if (sort === "value") {
    const x = BigInt(a), y = BigInt(b);
    return x > y || (x === y && card.dataset.deal > other.dataset.deal);
  }
  return a < b || (a === b && card.dataset.deal < other.dataset.deal);
}

document.addEventListener("htmx:afterSwap", () => {
  const card = document.querySelector(".deal-card[data-moved]");
  if (!card) return;
  delete card.dataset.moved;
  const list = document.querySelector(
    `.board-column[data-stage="${CSS.escape(card.dataset.stage)}"] .deal-cards`
  );
  if (!list || list === card.parentElement) return;
  const sort = document.getElementById("board").dataset.sort;
  const next = Array.from(list.querySelectorAll(".deal-card")).find((other) =>
    comesBefore(card, other, sort)
  );
  const loader = list.querySelector(".more-cards");
  if (!next && loader) card.dataset.placed = "true";
  list.insertBefore(card, next || loader);
});

// A loaded page may hold a card already placed there by a move: keep the server's copy.
document.addEventListener("htmx:afterSettle", () => {
  document.querySelectorAll(".deal-card[data-placed]").forEach((placed) => {
    const selector = `.deal-card[data-deal="${CSS.escape(placed.dataset.deal)}"]`;
    if (placed.parentElement.querySelectorAll(selector).length > 1) placed.remove();
  });
});

// After a move the card is re-rendered: put the keyboard focus back on the moved deal.
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
