// Pipeline settings: drag a stage row to reorder the stages. While dragging, the row moves in
// the list; when the drag ends with a new order, the hidden "order" fields of #reorder-form are
// rewritten and the form is submitted through htmx, which swaps in the re-rendered list. The
// Up and Down buttons of each row are the keyboard path. No inline scripts (CSP).
let draggedStage = null;
let orderBefore = "";

function currentOrder(list) {
  return Array.from(list.querySelectorAll(".stage-row"), (row) => row.dataset.stage);
}

document.addEventListener("dragstart", (event) => {
  const row = event.target.closest && event.target.closest(".stage-row");
  if (!row) return;
  draggedStage = row;
  orderBefore = currentOrder(row.parentNode).join(",");
  event.dataTransfer.setData("text/plain", row.dataset.stage);
  event.dataTransfer.effectAllowed = "move";
  row.classList.add("dragging");
});

document.addEventListener("dragover", (event) => {
  const list = event.target.closest && event.target.closest("#stage-list");
  if (!list || !draggedStage) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  const row = event.target.closest(".stage-row");
  if (!row || row === draggedStage) return;
  const box = row.getBoundingClientRect();
  const after = event.clientY > box.top + box.height / 2;
  list.insertBefore(draggedStage, after ? row.nextSibling : row);
});

document.addEventListener("drop", (event) => {
  if (draggedStage && event.target.closest && event.target.closest("#stage-list")) {
    event.preventDefault();
  }
});

document.addEventListener("dragend", () => {
  if (!draggedStage) return;
  const row = draggedStage;
  draggedStage = null;
  row.classList.remove("dragging");
  const order = currentOrder(row.parentNode);
  if (order.join(",") === orderBefore) return;
  const form = document.getElementById("reorder-form");
  form.querySelectorAll("input[name=order]").forEach((input) => input.remove());
  order.forEach((id) => {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "order";
    input.value = id;
    form.appendChild(input);
  });
  form.requestSubmit();
});
