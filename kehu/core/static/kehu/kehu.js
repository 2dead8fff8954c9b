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
// A field marked data-shown-with="other-field=value" is shown only while that field of its form has that value.
function syncShownWith(root) {
  root.querySelectorAll("[data-shown-with]").forEach((input) => {
    const [name, value] = input.dataset.shownWith.split("=");
    const other = input.form && input.form.elements.namedItem(name);
    const wrapper = input.closest(".mb-3") || input;
    wrapper.hidden = !other || other.value !== value;
  });
}
document.addEventListener("change", () => syncShownWith(document));
document.addEventListener("DOMContentLoaded", () => syncShownWith(document));
