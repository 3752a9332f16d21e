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
