// Pipeline settings: drag a stage row to reorder the stages. The drop rewrites the hidden
// "order" fields of #reorder-form and submits it through htmx, which swaps in the re-rendered
// list. The Up and Down buttons of each row are the keyboard path. No inline scripts (CSP).
let draggedStage = null;

document.addEventListener("dragstart", (event) => {
  const row = event.target.closest && event.target.closest(".stage-row");
  if (!row) return;
  draggedStage = row;
  event.dataTransfer.setData("text/plain", row.dataset.stage);
  event.dataTransfer.effectAllowed = "move";
  row.classList.add("dragging");
});

document.addEventListener("dragend", () => {
  if (draggedStage) draggedStage.classList.remove("dragging");
  draggedStage = null;
});

document.addEventListener("dragover", (event) => {
  const row = event.target.closest && event.target.closest(".stage-row");
  if (!row || !draggedStage || row === draggedStage) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  const box = row.getBoundingClientRect();
  const after = event.clientY > box.top + box.height / 2;
  row.parentNode.insertBefore(draggedStage, after ? row.nextSibling : row);
});

document.addEventListener("drop", (event) => {
  const list = event.target.closest && event.target.closest("#stage-list");
  if (!list || !draggedStage) return;
  event.preventDefault();
  const form = document.getElementById("reorder-form");
  form.querySelectorAll("input[name=order]").forEach((input) => input.remove());
  list.querySelectorAll(".stage-row").forEach((row) => {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "order";
    input.value = row.dataset.stage;
    form.appendChild(input);
  });
  form.requestSubmit();
});
