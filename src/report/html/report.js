// Draws the report's charts with uPlot from the JSON embedded in the page.
// After a chart's first draw its container gets data-drawn (the number of
// series drawn) and the body's data-charts-drawn counts finished charts:
// the browser test reads both to know the charts really rendered.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var colors = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"];
  var finished = 0;

  // Vertical lines, labelled: dashed grey where each planned stage starts,
  // solid red where a ramp's breaking point was found.
  function stageMarks(stages, color, dash, labelRow) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = color;
          ctx.fillStyle = color;
          ctx.setLineDash(dash);
          // uPlot leaves the alignment of its last axis label behind.
          ctx.textAlign = "left";
          ctx.textBaseline = "top";
          ctx.font = Math.round(10 * devicePixelRatio) + "px sans-serif";
          stages.forEach(function (stage) {
            var x = Math.round(u.valToPos(stage.at, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(stage.label, x + 3 * devicePixelRatio, u.bbox.top + (2 + 12 * labelRow) * devicePixelRatio);
          });
          ctx.restore();
        }]
      }
    };
  }

  data.charts.forEach(function (chart) {
    var el = document.getElementById("chart-" + chart.id);
    var width = Math.max(320, Math.min(el.clientWidth || 900, 1100));
    var series = [{ label: "time (s)" }].concat(chart.series.map(function (s, i) {
      return { label: s.label, stroke: colors[i % colors.length], width: 2, spanGaps: false,
        value: function (u, v) { return v == null ? "-" : v.toFixed(2) + " " + chart.unit; } };
    }));
    var opts = {
      width: width,
      height: 220,
      scales: { x: { time: false } },
      series: series,
      axes: [{ label: "seconds since start" }, { label: chart.unit, size: 60 }],
      plugins: [stageMarks(data.stages, "#6b7280", [4, 4], 0),
                stageMarks(data.breaks, "#dc2626", [], 1)],
      hooks: {
        draw: [function () {
          if (el.dataset.drawn) return;
          el.dataset.drawn = String(chart.series.length);
          el.dataset.points = String(data.x.length);
          el.dataset.breaks = String(data.breaks.length);
          finished += 1;
          document.body.dataset.chartsDrawn = String(finished);
        }]
      }
    };
    new uPlot(opts, [data.x].concat(chart.series.map(function (s) { return s.values; })), el);
  });
})();
