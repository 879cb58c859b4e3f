// The service centre's dashboard charts (Apache ECharts, served by ipledger): registrations per day by
// kind, and licences / pledges accepted and sales per day. The numbers come from the page (audit-series,
// the same index the totals are read from); the tables above the charts hold every total in text.
import * as echarts from "/vendor/echarts.js";
import { t } from "./messages.js";

const series = JSON.parse(document.getElementById("audit-series").textContent);
const kinds = JSON.parse(document.getElementById("page-messages").textContent).kinds || {};
const charts = [];

function draw(id, names, data, stacked) {
  const element = document.getElementById(id);
  if (!element) return;
  if (!series.days.length) {
    element.textContent = t("noData");
    element.classList.add("empty");
    return;
  }
  const chart = echarts.init(element, null, { renderer: "svg" });
  chart.setOption({
    aria: { enabled: true },
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { type: "scroll", top: 0 },
    grid: { left: 40, right: 16, top: 40, bottom: 30, containLabel: true },
    xAxis: { type: "category", data: series.days },
    yAxis: { type: "value", minInterval: 1 },
    series: names.map((name, i) => ({
      name, type: "bar", stack: stacked ? "total" : undefined, data: data[i], emphasis: { focus: "series" },
    })),
  });
  charts.push(chart);
}

try {
  const kindNames = Object.keys(series.registrations);
  draw("chart-registrations", kindNames.map((k) => kinds[k] || k), kindNames.map((k) => series.registrations[k]), true);
  const acts = ["licences", "pledges", "sales"];
  draw("chart-acts", acts.map((name) => t(name)), acts.map((name) => series.acts[name]), false);
  window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
} catch (error) {
  for (const id of ["chart-registrations", "chart-acts"]) {
    const element = document.getElementById(id);
    if (element) element.textContent = t("chartsFailed");
  }
  console.warn(error);
}
