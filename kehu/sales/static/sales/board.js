// Moving opportunities between stages: drag and drop on the board, stage buttons on the detail page.
// The server answers 204 + "opportunityMoved" when the move is done, or a form (the fields the stage asks
// for) that is shown in the dialog and posted back with htmx.
(() => {
  const dialog = () => document.getElementById("move-dialog");
  const modal = () => bootstrap.Modal.getOrCreateInstance(document.getElementById("move-modal"));

  function move(url, stage, version) {
    htmx.ajax("POST", url, { target: "#move-dialog", swap: "innerHTML", values: { stage, version } });
  }

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest(".kanban-card");
    if (!card) return;
    event.dataTransfer.setData("text/plain", card.dataset.opportunity);
    event.dataTransfer.effectAllowed = "move";
    card.classList.add("dragging");
  });
  document.addEventListener("dragend", (event) => {
    event.target.closest(".kanban-card")?.classList.remove("dragging");
    document.querySelectorAll(".kanban-column.drop-target").forEach((c) => c.classList.remove("drop-target"));
  });
  document.addEventListener("dragover", (event) => {
    const column = event.target.closest(".kanban-column");
    if (!column) return;
    event.preventDefault();
    column.classList.add("drop-target");
  });
  document.addEventListener("dragleave", (event) => {
    const column = event.target.closest(".kanban-column");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });
  document.addEventListener("drop", (event) => {
    const column = event.target.closest(".kanban-column");
    if (!column) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    const card = document.querySelector(`.kanban-card[data-opportunity="${event.dataTransfer.getData("text/plain")}"]`);
    if (!card || card.closest(".kanban-column") === column) return;
    column.querySelector(".kanban-cards").prepend(card);  // shown at once; the board reloads after the move
    move(card.dataset.moveUrl, column.dataset.stage, card.dataset.version);
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-move-to]");
    if (!button) return;
    event.preventDefault();
    move(button.dataset.moveUrl, button.dataset.moveTo, button.dataset.version);
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === dialog() && dialog().innerHTML.trim()) modal().show();
  });
  document.body.addEventListener("opportunityMoved", () => {
    if (document.getElementById("move-modal").classList.contains("show")) modal().hide();
    if (!document.getElementById("board")) window.location.reload();
  });
  document.body.addEventListener("htmx:responseError", (event) => {
    const toast = document.getElementById("board-error");
    if (!toast) return;
    // The server's own words only when it sent a sentence (a refused move); never an error page or status text.
    const xhr = event.detail.xhr;
    const plain = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
    toast.querySelector(".toast-body").textContent = plain && xhr.responseText ? xhr.responseText : toast.dataset.message;
    bootstrap.Toast.getOrCreateInstance(toast).show();
    document.body.dispatchEvent(new Event("opportunityMoved"));  // put the card back where the server has it
  });
})();
