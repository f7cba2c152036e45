// 统计 page charts (ECharts, vendored). Data comes from the page's JSON block; a click drills down.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("stats-data");
    if (!el || !window.echarts) return;
    var d = JSON.parse(el.textContent || "{}");
    var pct = function (v) { return v == null ? "—" : (d.ratio ? (v * 100).toFixed(1) + "%" : String(v)); };
    var axisFmt = function (v) { return d.ratio ? (v * 100).toFixed(0) + "%" : v; };
    function chart(id, option, onClick) {
      var node = document.getElementById(id);
      if (!node) return;
      var c = echarts.init(node, null, { renderer: "svg", locale: "ZH" });
      c.setOption(Object.assign({ animation: false, grid: { left: 60, right: 20, top: 20, bottom: 50 }, tooltip: { trigger: "axis" } }, option));
      if (onClick) c.on("click", onClick);
      window.addEventListener("resize", function () { c.resize(); });
    }
    function go(drill) {
      var q = new URLSearchParams({ by: d.by, metric: d.metric, min_n: d.min_n });
      if (drill) q.set("drill", drill);
      window.location.href = "/stats?" + q.toString() + "#units";
    }
    chart("chart-trend", {
      xAxis: { type: "category", data: d.trend.map(function (t) { return String(t.year); }) },
      yAxis: { type: "value", axisLabel: { formatter: axisFmt } },
      tooltip: { trigger: "axis", valueFormatter: pct },
      series: [{ type: "line", name: d.metric_name, data: d.trend.map(function (t) { return t.value; }), symbolSize: 8 }],
    }, function (p) { if (d.by === "year") go(p.name); });
    // distribution: ten equal bins between the smallest and largest unit value
    var values = d.distribution.slice().sort(function (a, b) { return a - b; });
    var bins = [], labels = [];
    if (values.length) {
      var lo = values[0], hi = values[values.length - 1], n = Math.min(10, Math.max(1, values.length));
      var width = (hi - lo) / n || 1;
      for (var i = 0; i < n; i++) { bins.push(0); labels.push(pct(lo + i * width) + "–" + pct(lo + (i + 1) * width)); }
      values.forEach(function (v) { bins[Math.min(n - 1, Math.floor((v - lo) / width))] += 1; });
    }
    chart("chart-distribution", {
      xAxis: { type: "category", data: labels, axisLabel: { rotate: 30 } },
      grid: { left: 50, right: 20, top: 30, bottom: 70 },
      yAxis: { type: "value", name: "单位数", minInterval: 1 },
      series: [{ type: "bar", name: "单位数", data: bins }],
    });
    var latest = d.ranking.reduce(function (m, r) { return Math.max(m, r.year || 0); }, 0);
    var top = d.ranking.filter(function (r) { return (r.year || 0) === latest; }).slice(0, 15).reverse();
    chart("chart-ranking", {
      grid: { left: 170, right: 30, top: 10, bottom: 30 },
      xAxis: { type: "value", axisLabel: { formatter: axisFmt } },
      yAxis: { type: "category", data: top.map(function (r) { return r.rank + ". " + r.agency; }) },
      tooltip: { trigger: "axis", valueFormatter: pct },
      series: [{ type: "bar", name: d.metric_name + (latest ? "（" + latest + " 年）" : ""), data: top.map(function (r) { return r.value; }) }],
    });
  });
})();
