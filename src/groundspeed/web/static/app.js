/* groundspeed situation room: times, live updates, pause. No inline scripts (CSP script-src 'self').
 * Post content never goes through innerHTML here: new posts arrive as HTML rendered and escaped
 * by the server; anything built in the browser uses textContent. */
(function () {
  "use strict";

  var body = document.body;
  var regionTz = body.dataset.regionTz || null;
  var viewerTz;
  try { viewerTz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { viewerTz = "UTC"; }

  function formatter(tz, withZone) {
    var options = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (tz) options.timeZone = tz;
    if (withZone) options.timeZoneName = "short";
    try { return new Intl.DateTimeFormat(undefined, options); } catch (e) { return new Intl.DateTimeFormat(undefined); }
  }
  var localFormat = formatter(null, false);
  var regionFormat = regionTz ? formatter(regionTz, false) : null;
  var utcFormat = formatter("UTC", true);

  function regionLabel() {
    return regionTz ? regionTz.split("/").pop().replace(/_/g, " ") : "";
  }

  /* <time datetime="...Z"> -> viewer's local time, with the region's time beside it. */
  function formatTimes(root) {
    var nodes = (root || document).querySelectorAll("time[datetime]:not([data-done])");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var date = new Date(node.getAttribute("datetime"));
      if (isNaN(date.getTime())) continue;
      node.textContent = localFormat.format(date);
      var title = utcFormat.format(date) + " · your time (" + viewerTz + "): " + localFormat.format(date);
      if (regionFormat) {
        var region = document.createElement("span");
        region.className = "region-time";
        region.textContent = regionLabel() + " " + regionFormat.format(date);
        node.appendChild(document.createTextNode(" "));
        node.appendChild(region);
        title += " · " + regionTz + ": " + regionFormat.format(date);
      }
      node.title = title;
      node.dataset.done = "1";
    }
  }

  function tickClock() {
    var now = new Date();
    var local = document.getElementById("clock-local");
    var clockFormat = formatter(null, false);
    if (local) local.textContent = "you " + clockFormat.format(now).split(", ").pop();
    var region = document.getElementById("clock-region");
    if (region && regionFormat) region.textContent = regionLabel() + " " + regionFormat.format(now).split(", ").pop();
  }

  /* ---- live updates ---------------------------------------------------------------------- */

  var paused = false;
  var lastState = null;
  var pending = null; // a state seen while paused
  var liveText = document.getElementById("live-text");
  var liveBox = document.getElementById("live");
  var toggle = document.getElementById("live-toggle");

  function setStatus(kind, text) {
    if (liveBox) liveBox.dataset.state = kind;
    if (liveText) liveText.textContent = text;
  }

  function fire(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true }));
  }

  function applyState(state) {
    var previous = lastState;
    lastState = state;
    if (!previous) return;
    var changed = false;
    // New posts, or posts understood since (a post can join the eyewitness lane minutes after it arrived).
    if (state.last_post_id !== previous.last_post_id || state.understood !== previous.understood) {
      fire("gs:posts", state);
      changed = true;
    }
    if (state.peaks !== previous.peaks || state.peaks_at !== previous.peaks_at) { fire("gs:peaks", state); changed = true; }
    if (state.stories !== previous.stories || state.stories_at !== previous.stories_at) { fire("gs:stories", state); changed = true; }
    if (changed) fire("gs:changed", state);
  }

  function connect() {
    if (!window.EventSource) { setStatus("off", "no live updates in this browser"); return; }
    var source = new EventSource("/api/events");
    source.addEventListener("state", function (event) {
      var state;
      try { state = JSON.parse(event.data); } catch (e) { return; }
      if (paused) {
        pending = state;
        var behind = lastState ? state.last_post_id - lastState.last_post_id : 0;
        setStatus("paused", behind > 0 ? "paused · " + behind + " new" : "paused");
        return;
      }
      applyState(state);
      setStatus("live", "live");
    });
    source.addEventListener("open", function () { if (!paused) setStatus("live", "live"); });
    source.addEventListener("error", function () {
      // EventSource reconnects by itself (after a server restart too); the next state message
      // brings the page up to date.
      if (!paused) setStatus("reconnecting", "reconnecting…");
    });
    window.groundspeedLive = source;
  }

  if (toggle) {
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.setAttribute("aria-pressed", paused ? "true" : "false");
      toggle.textContent = paused ? "Resume" : "Pause";
      if (paused) {
        setStatus("paused", "paused");
      } else {
        setStatus("live", "live");
        if (pending) { applyState(pending); pending = null; }
      }
    });
  }

  /* ---- post stream: new posts on top ---------------------------------------------------- */

  function streamSection() { return document.getElementById("results"); }

  /* The highest post id shown: posts stored after it that match the filters are new to this
     page (including posts stored earlier but only now understood, when the filters need that). */
  function topId(section) {
    var top = 0;
    var shown = section.querySelectorAll("#rows article.post[data-id]");
    for (var i = 0; i < shown.length; i++) top = Math.max(top, parseInt(shown[i].dataset.id, 10) || 0);
    return top;
  }

  function loadNewPosts() {
    var section = streamSection();
    if (!section) return;
    var query = section.dataset.query || "";
    var base = section.dataset.base || "/posts";
    var after = topId(section);
    var url = base + "?" + (query ? query + "&" : "") + "fragment=rows&after_id=" + encodeURIComponent(after);
    fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html.trim()) return;
        var holder = document.createElement("div");
        holder.innerHTML = html; // server-rendered, escaped fragment
        var rows = section.querySelector("#rows");
        var fresh = holder.querySelectorAll("article.post");
        for (var i = fresh.length - 1; i >= 0; i--) {
          if (!document.getElementById(fresh[i].id)) {
            fresh[i].classList.add("fresh");
            rows.insertBefore(fresh[i], rows.firstChild);
          }
        }
        var empty = section.querySelector(".empty");
        if (empty && fresh.length) empty.remove();
        formatTimes(rows);
        if (window.htmx) window.htmx.process(rows);
      })
      .catch(function () { /* the next change tries again */ });
  }

  body.addEventListener("gs:posts", loadNewPosts);

  /* ---- small things ------------------------------------------------------------------- */

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("select[data-autosubmit]") && target.form) target.form.submit();
  });

  document.addEventListener("htmx:afterSwap", function (event) { formatTimes(event.target); });
  document.addEventListener("htmx:afterSettle", function (event) { formatTimes(event.target); });

  formatTimes(document);
  tickClock();
  setInterval(tickClock, 15000);
  if (liveBox) connect();
  window.groundspeed = { formatTimes: formatTimes, isPaused: function () { return paused; } };
})();
