// Small behaviours without a framework: select-all checkboxes and closing the search dropdown.
document.addEventListener("change", (event) => {
  const toggle = event.target.closest("[data-select-all]");
  if (!toggle) return;
  document.querySelectorAll(toggle.dataset.selectAll).forEach((box) => { box.checked = toggle.checked; });
});
document.addEventListener("click", (event) => {
  const results = document.getElementById("search-results");
  if (results && !event.target.closest("#global-search")) results.innerHTML = "";
});
