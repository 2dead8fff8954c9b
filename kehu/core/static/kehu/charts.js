// Draws every chart of a page (analytics, survey results) from the option the server embedded (json_script), in
// the page's language, with a "save as PNG" button; clicking a bar, slice, cell or flow that carries a link opens it.
(() => {
  const locale = (document.documentElement.lang || "").toLowerCase().startsWith("zh") ? "ZH" : "EN";
  const charts = [];

  function draw(element) {
    const option = JSON.parse(document.getElementById(element.dataset.option).textContent);
    option.toolbox = { right: 8, feature: { saveAsImage: { name: element.dataset.filename || "chart", pixelRatio: 2 } } };
    option.textStyle = { fontFamily: "inherit" };
    const chart = echarts.init(element, null, { locale, renderer: "canvas" });
    chart.setOption(option);
    chart.on("click", (params) => {
      const link = params.data && params.data.link;
      if (link) window.location.assign(link);
    });
    element.dataset.drawn = "true";
    charts.push(chart);
  }

  function drawAll(root) {
    root.querySelectorAll(".kehu-chart:not([data-drawn])").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => drawAll(document));
  document.addEventListener("htmx:afterSwap", (event) => drawAll(event.target));
  window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
})();
