/* Timelines (uPlot): a tracker's posts over time with its peaks as clickable bands, and a
 * story's posts per hour. Data comes from the JSON API; labels are set as text, never HTML. */
(function () {
  "use strict";

  var COLORS = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7b83", "#57606a"];

  function width(el) { return Math.max(320, el.clientWidth || 800); }

  function peakBands(peaks, binMinutes) {
    return peaks.map(function (peak) {
      var start = Date.parse(peak.start_at) / 1000;
      var end = peak.end_at ? Date.parse(peak.end_at) / 1000 : Date.parse(peak.peak_at) / 1000 + binMinutes * 60;
      return { start: start, end: Math.max(end, start + binMinutes * 60), peak: peak };
    });
  }

  function binLabel(minutes) {
    var names = { 1: "minute", 60: "hour", 1440: "day", 10080: "week" };
    if (names[minutes]) return names[minutes];
    return minutes % 60 === 0 ? minutes / 60 + " hours" : minutes + " minutes";
  }

  function peakHref(peak) {
    return "/peak?series=" + encodeURIComponent(peak.series) + "&bin=" + encodeURIComponent(peak.bin_minutes) +
      "&start=" + encodeURIComponent(peak.start_at);
  }

  function drawTimeline(el, data, by) {
    var times = data.times;
    var series = [{}];
    var values = [times];
    if (by && Object.keys(data.breakdown).length) {
      Object.keys(data.breakdown).forEach(function (label, i) {
        series.push({ label: label, stroke: COLORS[i % COLORS.length], width: 1.5 });
        values.push(data.breakdown[label]);
      });
    } else {
      series.push({ label: "all posts", stroke: "#1f6feb", fill: "rgba(31,111,235,0.12)", width: 1.5 });
      series.push({ label: "one per message", stroke: "#d1242f", width: 1.5 });
      values.push(data.posts, data.canonical);
    }
    var bands = peakBands(data.peaks || [], data.bin_minutes);
    var last = times.length ? times[times.length - 1] + data.bin_minutes * 60 : 0;
    bands.forEach(function (band) { last = Math.max(last, band.end); });
    var options = {
      width: width(el),
      height: 300,
      series: series,
      scales: { x: { time: true, range: function (u, min, max) { return [min, Math.max(max, last)]; } } },
      axes: [{}, { label: "posts per " + binLabel(data.bin_minutes), size: 60 }],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = "rgba(255, 140, 0, 0.22)";
          bands.forEach(function (band) {
            var left = u.valToPos(band.start, "x", true);
            var right = u.valToPos(band.end, "x", true);
            ctx.fillRect(left, u.bbox.top, Math.max(2, right - left), u.bbox.height);
          });
          ctx.restore();
        }]
      }
    };
    el.textContent = "";
    if (!times.length) {
      el.textContent = "No posts yet.";
      return null;
    }
    var plot = new uPlot(options, values, el);
    plot.over.addEventListener("click", function (event) {
      // A band can be narrower than a pixel over a long span: allow a few pixels either side.
      var left = event.offsetX;
      for (var i = 0; i < bands.length; i++) {
        var from = plot.valToPos(bands[i].start, "x");
        var to = plot.valToPos(bands[i].end, "x");
        if (left >= from - 4 && left <= to + 4) { window.location.href = peakHref(bands[i].peak); return; }
      }
    });
    plot.over.dataset.peaks = String(bands.length);
    el.groundspeedPlot = plot;
    el.groundspeedBands = bands;
    return plot;
  }

  function timeline() {
    var el = document.getElementById("timeline-chart");
    if (!el || !window.uPlot) return;
    var bySelect = document.getElementById("timeline-by");
    var binSelect = document.getElementById("timeline-bin");
    var plot = null;
    function load() {
      var params = new URLSearchParams();
      if (el.dataset.tracker) params.set("tracker", el.dataset.tracker);
      if (bySelect && bySelect.value) params.set("by", bySelect.value);
      if (binSelect && binSelect.value) params.set("bin", binSelect.value);
      fetch("/api/timeline?" + params.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (plot) plot.destroy();
          plot = drawTimeline(el, data, bySelect ? bySelect.value : "");
          el.dataset.loaded = String(data.times.length);
        });
    }
    if (bySelect) bySelect.addEventListener("change", load);
    if (binSelect) binSelect.addEventListener("change", load);
    document.body.addEventListener("gs:posts", load);
    document.body.addEventListener("gs:peaks", load);
    window.addEventListener("resize", function () { if (plot) plot.setSize({ width: width(el), height: 300 }); });
    load();
  }

  function storyChart() {
    var el = document.getElementById("story-chart");
    if (!el || !window.uPlot) return;
    var hours;
    try { hours = JSON.parse(el.dataset.hours || "[]"); } catch (e) { hours = []; }
    if (hours.length < 2) { el.hidden = true; return; }
    var times = hours.map(function (row) { return Date.parse(row[0] + ":00:00Z") / 1000; });
    var counts = hours.map(function (row) { return row[1]; });
    new uPlot({
      width: width(el), height: 160,
      series: [{}, { label: "posts per hour", stroke: "#1f6feb", fill: "rgba(31,111,235,0.12)" }],
      scales: { x: { time: true } }
    }, [times, counts], el);
  }

  timeline();
  storyChart();
})();
