// Dialogs of the Schedule Meeting form and the calendar (no inline scripts: the CSP forbids them).
// Content swapped into a <dialog> opens it; meetingScheduled / meetingChanged (sent by the
// server in HX-Trigger) close it and announce the server's message in #meeting-status.
(() => {
  const STATUS_SECONDS = 8;
  const closeDialogs = () => {
    document.querySelectorAll("dialog.modal[open]").forEach((dialog) => dialog.close());
  };

  const announce = (event) => {
    closeDialogs();
    const status = document.getElementById("meeting-status");
    const message = event.detail && event.detail.message;
    if (status && message) {
      status.textContent = message;
      window.clearTimeout(status.clearTimer);
      status.clearTimer = window.setTimeout(() => {
        status.textContent = "";
      }, STATUS_SECONDS * 1000);
    }
  };

  document.addEventListener("htmx:afterSwap", (event) => {
    const xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Reswap") === "none") {
      return; // a success answer: nothing was swapped, the dialog stays closed
    }
    const dialog = event.detail.target.closest("dialog.modal");
    if (dialog && !dialog.open) {
      dialog.showModal();
    }
    if (dialog) {
      const focusTarget = dialog.querySelector("[autofocus]") || dialog.querySelector("input, button");
      if (focusTarget) {
        focusTarget.focus();
      }
    }
  });

  document.addEventListener("meetingScheduled", announce);
  document.addEventListener("meetingChanged", announce);

  document.addEventListener("click", (event) => {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) {
        dialog.close();
      }
    }
  });
})();
