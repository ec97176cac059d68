/* The map: Natural Earth country borders shipped with groundspeed (works offline), an optional
 * tile layer, placed posts grouped into clusters or shown as heat over a time window.
 * Popups are built from DOM nodes with textContent: post text is never parsed as HTML. */
(function () {
  "use strict";

  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var form = document.getElementById("map-filters");
  var mode = document.getElementById("map-mode");
  var slider = document.getElementById("time-window");
  var sliderLabel = document.getElementById("time-window-label");
  var summary = document.getElementById("map-summary");

  var map = L.map(el, { worldCopyJump: true, preferCanvas: true, minZoom: 2, maxZoom: 14 }).setView([32.4, 53.7], 4);
  map.attributionControl.setPrefix("");
  var tileUrl = el.dataset.tileUrl;
  if (tileUrl) {
    L.tileLayer(tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 18 }).addTo(map);
  }
  var basemapLoaded = fetch("/static/vendor/world-atlas/countries-50m.json")
    .then(function (response) { return response.json(); })
    .then(function (topology) {
      var countries = topojson.feature(topology, topology.objects.countries);
      L.geoJSON(countries, {
        interactive: false,
        style: { color: "#8c8c8c", weight: 0.7, fillColor: "#f4f1e8", fillOpacity: tileUrl ? 0 : 1 }
      }).addTo(map);
      map.attributionControl.addAttribution("Borders: Natural Earth");
      el.dataset.basemap = "loaded";
    })
    .catch(function () { el.dataset.basemap = "failed"; });

  var LIMIT = 3000; // the newest placed posts: enough for a wall screen, quick with millions of posts
  var clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 45, chunkedLoading: true });
  var heat = null;
  var features = [];
  var span = null;

  function bidiVisible(text) {
    return (text || "").replace(/[\u202a-\u202e\u2066-\u2069]/g, function (c) {
      return "[U+" + c.charCodeAt(0).toString(16).toUpperCase() + "]";
    });
  }

  /* A popup from a post as /api/post returns it; every value goes in as text. */
  function popup(detail) {
    var post = detail.post || {};
    var insight = detail.insight || {};
    var box = document.createElement("div");
    box.className = "map-popup";
    var text = document.createElement("p");
    text.dir = "auto";
    text.textContent = bidiVisible((post.original_text || post.text || "").slice(0, 280));
    box.appendChild(text);
    var meta = document.createElement("p");
    meta.className = "muted";
    var place = document.createElement("bdi");
    place.textContent = bidiVisible(insight.place_name || post.place_name || "");
    meta.appendChild(place);
    var how = insight.place_lat != null
      ? " · from the " + (insight.place_source || "?") + " (" + Math.round((insight.place_confidence || 0) * 100) + "% sure)"
      : " · geotag";
    meta.appendChild(document.createTextNode(how));
    if (post.created_at) meta.appendChild(document.createTextNode(" · " + new Date(post.created_at).toLocaleString()));
    box.appendChild(meta);
    var link = document.createElement("a");
    link.href = "/post?uid=" + encodeURIComponent(post.uid || "");
    link.textContent = "open the post";
    box.appendChild(link);
    if (post.story_id !== null && post.story_id !== undefined) {
      box.appendChild(document.createTextNode(" · "));
      var story = document.createElement("a");
      story.href = "/stories/" + encodeURIComponent(post.story_id);
      story.textContent = "story #" + post.story_id;
      box.appendChild(story);
    }
    return box;
  }

  function popupFor(uid) {
    return fetch("/api/post?uid=" + encodeURIComponent(uid), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(popup);
  }

  /* When the post cannot be fetched (server down, post gone), the popup still links to it. */
  function unavailable(uid) {
    var box = popup({ post: { uid: uid, text: "The post could not be loaded here." } });
    box.classList.add("map-popup-failed");
    return box;
  }

  function windowed() {
    if (!span || !slider || slider.value === "100") return features;
    var width = Math.max(3600, (span[1] - span[0]) / 12);
    var end = span[0] + (span[1] - span[0]) * (parseInt(slider.value, 10) / 100) + width / 2;
    var start = end - width;
    return features.filter(function (f) { return f.time && f.time >= start && f.time <= end; });
  }

  function label() {
    if (!sliderLabel) return;
    if (!span || slider.value === "100") { sliderLabel.textContent = "all"; return; }
    var width = Math.max(3600, (span[1] - span[0]) / 12);
    var end = span[0] + (span[1] - span[0]) * (parseInt(slider.value, 10) / 100) + width / 2;
    var format = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    sliderLabel.textContent = format.format(new Date((end - width) * 1000)) + " – " + format.format(new Date(end * 1000));
  }

  function render(fit) {
    var shown = windowed();
    clusters.clearLayers();
    if (heat) { map.removeLayer(heat); heat = null; }
    if (mode && mode.value === "heat" && L.heatLayer) {
      heat = L.heatLayer(shown.map(function (f) { return [f.lat, f.lon, 0.6]; }),
        { radius: 22, blur: 18, maxZoom: 10 }).addTo(map);
      if (map.hasLayer(clusters)) map.removeLayer(clusters);
    } else {
      var markers = shown.map(function (f) {
        var marker = L.circleMarker([f.lat, f.lon], {
          radius: 7, weight: 1.5, color: f.eyewitness ? "#9a3412" : "#1f4f8b",
          fillColor: f.eyewitness ? "#f97316" : "#3b82f6", fillOpacity: f.geotag ? 0.9 : 0.55, uid: f.uid
        });
        marker.bindPopup("…");
        marker.on("popupopen", function (event) {
          popupFor(f.uid)
            .catch(function () { return unavailable(f.uid); })
            .then(function (element) { event.popup.setContent(element); });
        });
        return marker;
      });
      clusters.addLayers(markers);
      if (!map.hasLayer(clusters)) map.addLayer(clusters);
    }
    if (summary) {
      summary.textContent = shown.length + " placed posts shown" + (shown.length !== features.length ? " of " + features.length : "") +
        (features.length >= LIMIT ? " (the newest " + LIMIT.toLocaleString() + ")" : "") + ".";
    }
    el.dataset.points = String(shown.length);
    label();
    if (fit && shown.length) {
      var bounds = L.latLngBounds(shown.map(function (f) { return [f.lat, f.lon]; }));
      map.fitBounds(bounds.pad(0.3), { maxZoom: 8 });
    }
  }

  function load(fit) {
    var params = new URLSearchParams(new FormData(form));
    params.set("format", "columns");
    params.set("limit", String(LIMIT));
    fetch("/api/map?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        features = data.uid.map(function (uid, i) {
          return { uid: uid, lat: data.lat[i], lon: data.lon[i], time: data.time[i], confidence: data.confidence[i],
                   geotag: data.geotag[i], eyewitness: data.eyewitness[i] };
        });
        var times = features.map(function (f) { return f.time; }).filter(Boolean);
        span = times.length ? [Math.min.apply(null, times), Math.max.apply(null, times)] : null;
        return basemapLoaded.then(function () { render(fit); });
      });
  }

  form.addEventListener("change", function (event) {
    if (event.target === slider || event.target === mode) return;
    load(true);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); load(true); });
  if (mode) mode.addEventListener("change", function () { render(false); });
  if (slider) slider.addEventListener("input", function () { render(false); });
  /* New posts redraw the markers, which would close the popup being read: while one is open,
   * the redraw waits until it is closed. */
  var reading = false;
  var stale = false;
  map.on("popupopen", function () { reading = true; });
  map.on("popupclose", function () {
    reading = false;
    setTimeout(function () { // after a click on another marker, whose popup opens right after
      if (stale && !reading) { stale = false; load(false); }
    }, 0);
  });
  document.body.addEventListener("gs:posts", function () {
    if (reading) { stale = true; return; }
    load(false);
  });
  load(true);
  window.groundspeedMap = {
    map: map, clusters: clusters, popup: popup, popupFor: popupFor, features: function () { return features; }
  };
})();
