// Drag and drop on the calendar with plain HTML5 drag events; each drop becomes an htmx
// request whose answer the server validates (no inline scripts: the CSP forbids them).
// - a meeting dropped on a day keeps its time of day; dropped on a week slot it starts there;
// - a contact or deal from the side list dropped on a day opens the Schedule Meeting dialog.
// Every drag has a keyboard path: open the meeting and use its form, or "Schedule" buttons.
(() => {
  const DIALOG_BODY = "#meeting-dialog-body";
  let dragged = null;

  const dropCell = (event) => event.target.closest && event.target.closest("[data-drop-date]");

  document.addEventListener("dragstart", (event) => {
    const source = event.target.closest && event.target.closest("[data-move-url], [data-schedule-url]");
    if (!source) {
      return;
    }
    dragged = source;
    source.classList.add("dragging");
    event.dataTransfer.effectAllowed = source.dataset.moveUrl ? "move" : "copy";
    event.dataTransfer.setData("text/plain", source.textContent.trim());
  });

  document.addEventListener("dragend", () => {
    if (dragged) {
      dragged.classList.remove("dragging");
    }
    dragged = null;
    document.querySelectorAll(".drop-target").forEach((cell) => cell.classList.remove("drop-target"));
  });

  document.addEventListener("dragover", (event) => {
    const cell = dropCell(event);
    if (dragged && cell) {
      event.preventDefault();
      event.dataTransfer.dropEffect = dragged.dataset.moveUrl ? "move" : "copy";
    }
  });

  document.addEventListener("dragenter", (event) => {
    const cell = dropCell(event);
    if (dragged && cell) {
      document.querySelectorAll(".drop-target").forEach((other) => other.classList.remove("drop-target"));
      cell.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", (event) => {
    const cell = dropCell(event);
    if (!dragged || !cell) {
      return;
    }
    event.preventDefault();
    cell.classList.remove("drop-target");
    const source = dragged;
    if (source.dataset.moveUrl) {
      const values = cell.dataset.dropStart
        ? { start_time: cell.dataset.dropStart }
        : { date: cell.dataset.dropDate };
      htmx.ajax("POST", source.dataset.moveUrl, { source: cell, target: DIALOG_BODY, swap: "innerHTML", values: values });
    } else {
      const url = new URL(source.dataset.scheduleUrl, window.location.href);
      url.searchParams.set("date", cell.dataset.dropDate);
      if (cell.dataset.dropStart) {
        url.searchParams.set("time", cell.dataset.dropStart.slice(11));
      }
      htmx.ajax("GET", url.pathname + url.search, { source: cell, target: DIALOG_BODY, swap: "innerHTML" });
    }
  });
})();
