"""The situation room in a real browser: Debian's Chromium driven by Playwright.

Covers each view, live updates (with pause, and across a server restart), search, the offline
map, right-to-left text and an XSS corpus. Screenshots go to $GROUNDSPEED_ARTIFACTS (default
tests/web/_artifacts). Skipped, with the reason, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .browser import CHROMIUM, CHROMIUM_ARGS, artifacts_dir, missing, running
from .datasets import TRACKER_NAME, add_insights, build, import_records, live_records

REASON = missing()
pytestmark = [pytest.mark.browser, pytest.mark.skipif(REASON is not None, reason=f"browser tests: {REASON}")]

if REASON is None:
    from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

TIMEOUT_MS = 15_000


@dataclass
class Watched:
    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def go(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name: str) -> Path:
        """The visible part of the page (a wall screen's view), saved as an artifact."""
        path = artifacts_dir() / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder of this module's own: the live test adds posts to it."""
    return build(tmp_path_factory.mktemp("browser") / "data")


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[Any]:
    with running(data, region_tz="Asia/Tehran") as instance:
        yield instance


def _watch(browser: Browser, base: str) -> Watched:
    # The viewer is in New York, the crisis in Tehran: both times are shown.
    context = browser.new_context(
        timezone_id="America/New_York", locale="en-US", viewport={"width": 1400, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watched = Watched(page=page, base=base)
    page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))

    def console(message: Any) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            watched.errors.append(f"console: {message.text}")

    page.on("console", console)
    page.on("dialog", lambda dialog: (watched.dialogs.append(dialog.message), dialog.dismiss()))

    def request(req: Any) -> None:
        if not req.url.startswith((base, "data:", "blob:")):
            watched.foreign_requests.append(req.url)

    page.on("request", request)
    page.on(
        "response",
        lambda response: (
            watched.errors.append(f"HTTP {response.status}: {response.url}") if response.status >= 400 else None
        ),
    )
    return watched


@pytest.fixture
def web(browser: Browser, server: Any) -> Iterator[Watched]:
    watched = _watch(browser, server.url)
    yield watched
    watched.page.context.close()
    assert watched.errors == [], watched.errors
    assert watched.dialogs == [], watched.dialogs
    assert watched.foreign_requests == [], "the app must work offline"


def _live(page: Page) -> None:
    expect(page.locator("#live")).to_have_attribute("data-state", "live")


def test_overview(web: Watched) -> None:
    page = web.go("/")
    expect(page.locator("table.trackers")).to_contain_text(TRACKER_NAME)
    expect(page.locator("table.trackers")).to_contain_text("All posts")
    expect(page.locator("table.sources")).to_be_visible()
    _live(page)
    # Times are shown in the viewer's zone with the region's beside them.
    first = page.locator("time[data-done]").first
    expect(first.locator(".region-time")).to_contain_text("Tehran")
    expect(page.locator("#clock-region")).to_contain_text("Tehran")
    web.shot("overview")


def test_tracker_timeline_peaks_click_through(web: Watched) -> None:
    page = web.go("/tracker")
    chart = page.locator("#timeline-chart")
    expect(chart.locator("canvas")).to_be_visible()
    expect(chart).to_have_attribute("data-loaded", re.compile(r"[1-9]"))
    expect(page.locator("ol.peaks li")).not_to_have_count(0)
    web.shot("tracker-all")
    # Click inside the first peak's band on the chart itself.
    box = chart.locator(".u-over").bounding_box()
    assert box is not None
    x = page.evaluate(
        """() => { const el = document.getElementById('timeline-chart');
                   const band = el.groundspeedBands[0];
                   return el.groundspeedPlot.valToPos((band.start + band.end) / 2, 'x'); }"""
    )
    page.mouse.click(box["x"] + x, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(r"/peak\?series="))
    expect(page.locator("h2", has_text="Posts to read first")).to_be_visible()
    web.shot("peak")


def test_tracker_breakdown_by_language(web: Watched) -> None:
    page = web.go("/tracker?name=" + quote(TRACKER_NAME))
    expect(page.locator("h1")).to_contain_text(TRACKER_NAME)
    expect(page.locator("#timeline-chart canvas")).to_be_visible()
    page.select_option("#timeline-by", "language")
    expect(page.locator("#timeline-chart .u-legend")).to_contain_text("fa")
    web.shot("tracker-by-language")


def test_stories_board_and_story(web: Watched) -> None:
    page = web.go("/stories")
    for lane in ("New", "Growing", "Steady"):
        expect(page.locator(".lane h2", has_text=lane)).to_be_visible()
    cards = page.locator(".story-card")
    expect(cards.first).to_be_visible()
    web.shot("stories")
    cards.first.locator("header a").click()
    expect(page).to_have_url(re.compile(r"/stories/\d+$"))
    expect(page.locator("h2", has_text="First post")).to_be_visible()
    web.shot("story")


def test_post_stream_search_and_filters(web: Watched) -> None:
    page = web.go("/posts")
    expect(page.locator("#rows article.post").first).to_be_visible()
    page.fill("#q", "tehran")
    expect(page).to_have_url(re.compile(r"q=tehran"))
    posts = page.locator("#rows article.post .text")
    expect(posts.first).to_be_visible()
    for text in posts.all_inner_texts():
        assert "tehran" in text.lower() or "تهران" in text
    web.shot("posts-search")
    page.fill("#q", "")
    page.select_option("select[name=lang]", "fa")
    expect(page).to_have_url(re.compile(r"lang=fa"))
    badges = page.locator("#rows article.post .badge.lang")
    expect(badges.first).to_have_text("fa")
    assert set(badges.all_inner_texts()) == {"fa"}
    # Older posts page in below.
    page.select_option("select[name=lang]", "")
    expect(page).not_to_have_url(re.compile(r"lang=fa"))
    before = page.locator("#rows article.post").count()
    page.locator(".more button").first.click()
    expect(page.locator("#rows article.post")).not_to_have_count(before)
    web.shot("posts")


def test_post_detail_rtl_and_raw_payload(web: Watched) -> None:
    page = web.go("/posts?lang=fa&canonical=1")
    page.locator("#rows article.post footer a", has_text="details").first.click()
    expect(page).to_have_url(re.compile(r"/post\?uid="))
    original = page.locator("blockquote.original")
    expect(original).to_have_attribute("dir", "auto")
    assert original.evaluate("el => getComputedStyle(el).direction") == "rtl"
    for section in ("Translation", "Provenance", "Copies and amplifiers"):
        expect(page.locator("h2", has_text=section)).to_be_visible()
    page.locator("details.raw summary").click()
    expect(page.locator("pre.raw-text")).to_contain_text("{")
    web.shot("post-detail-persian")


def test_right_to_left_and_mixed_text(web: Watched) -> None:
    page = web.go("/posts?q=" + quote("تهران"))
    persian = page.locator("#rows article.post .text").first
    expect(persian).to_be_visible()
    directions = page.locator("#rows article.post .text").evaluate_all(
        "els => els.map(el => [getComputedStyle(el).direction, el.textContent.trim().slice(0, 1)])"
    )
    for direction, first_letter in directions:
        if re.match(r"[\u0600-\u06FF]", first_letter):
            assert direction == "rtl"
        elif re.match(r"[A-Za-z]", first_letter):
            assert direction == "ltr"
    # The shipped Persian font is used for Persian text (shaping is the browser's, with a real font).
    loaded = page.evaluate("() => document.fonts.ready.then(() => document.fonts.check('16px Vazirmatn', 'تهران'))")
    assert loaded
    english = web.go("/posts?lang=en").locator("#rows article.post .text").first
    assert english.evaluate("el => getComputedStyle(el).direction") == "ltr"
    web.go("/posts?q=" + quote("تهران"))
    web.shot("posts-rtl")


def test_eyewitness_lane(web: Watched) -> None:
    page = web.go("/eyewitness")
    expect(page.locator("h1")).to_have_text("Eyewitness lane")
    posts = page.locator("#rows article.post")
    expect(posts.first).to_be_visible()
    assert posts.count() == page.locator("#rows article.post.eyewitness").count()
    times = page.locator("#rows article.post time").evaluate_all("els => els.map(el => el.getAttribute('datetime'))")
    assert times == sorted(times, reverse=True)
    web.shot("eyewitness")


def test_map_offline_clusters_heat_and_confidence(web: Watched) -> None:
    page = web.go("/map")
    chart = page.locator("#map")
    expect(chart).to_have_attribute("data-basemap", "loaded")
    expect(chart).to_have_attribute("data-points", re.compile(r"[1-9]"))
    expect(page.locator("#map path.leaflet-interactive, #map .marker-cluster").first).to_be_attached()
    assert page.locator("#map svg path, #map canvas").count() > 0  # borders drawn
    web.shot("map-markers")
    with page.expect_response(re.compile(r"/api/map\?.*min_confidence=0(&|$)")):
        page.select_option("#min-confidence", "0")
    page.wait_for_timeout(300)
    all_points = int(chart.get_attribute("data-points") or 0)
    page.select_option("#min-confidence", "0.9")
    expect(chart).not_to_have_attribute("data-points", str(all_points))
    confident = int(chart.get_attribute("data-points") or 0)
    assert 0 < confident < all_points
    page.select_option("#map-mode", "heat")
    expect(page.locator("#map canvas.leaflet-heatmap-layer")).to_be_attached()
    web.shot("map-heat")
    page.locator("#time-window").fill("99")
    expect(page.locator("#time-window-label")).not_to_have_text("all")
    web.shot("map-heat-window")


def test_live_updates_with_pause(web: Watched, data: Path) -> None:
    page = web.go("/posts")
    _live(page)
    start = datetime.now(UTC)
    import_records(data, "live-a", live_records(start, 3, prefix="livea"))
    fresh = page.locator("#rows article.post.fresh")
    expect(fresh).to_have_count(3)
    expect(page.locator("#rows article.post").first).to_contain_text("livea")
    web.shot("live-new-posts")

    page.click("#live-toggle")
    expect(page.locator("#live")).to_have_attribute("data-state", "paused")
    import_records(data, "live-b", live_records(start, 2, prefix="liveb"))
    expect(page.locator("#live-text")).to_contain_text("2 new")
    page.wait_for_timeout(1500)
    expect(page.locator("#rows article.post", has_text="liveb")).to_have_count(0)
    web.shot("live-paused")
    page.click("#live-toggle")
    expect(page.locator("#rows article.post", has_text="liveb")).to_have_count(2)
    _live(page)


def test_posts_understood_later_join_the_eyewitness_lane(web: Watched, data: Path) -> None:
    page = web.go("/eyewitness")
    _live(page)
    import_records(data, "live-e", live_records(datetime.now(UTC), 6, prefix="livee"))
    page.wait_for_timeout(1500)
    expect(page.locator("#rows article.post", has_text="livee")).to_have_count(0)  # not understood yet
    assert add_insights(data / "groundspeed.db") >= 6
    arrived = page.locator("#rows article.post", has_text="livee")
    expect(arrived.first).to_be_visible()
    assert arrived.count() == page.locator("#rows article.post.eyewitness", has_text="livee").count() >= 1
    web.shot("eyewitness-live")


def test_overview_updates_live(web: Watched, data: Path) -> None:
    page = web.go("/")
    _live(page)
    cell = page.locator("table.trackers tbody tr").first.locator("td.n").first
    before = cell.inner_text()
    import_records(data, "live-c", live_records(datetime.now(UTC), 4, prefix="livec"))
    expect(cell).not_to_have_text(before)


def test_map_popup_stays_open_through_live_updates(web: Watched, data: Path) -> None:
    page = web.go("/map?min_confidence=0")
    _live(page)
    expect(page.locator("#map")).to_have_attribute("data-points", re.compile(r"[1-9]"))
    _wait_until_the_map_stands_still(page)
    target = page.evaluate(LONE_MARKER_IN_VIEW)
    assert target is not None, "no marker of its own in view to click"
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    link = page.locator(".leaflet-popup-content a", has_text="open the post")
    expect(link).to_have_attribute("href", target["href"])
    page.evaluate(
        "() => { window.__arrivals = 0; document.body.addEventListener('gs:posts', () => window.__arrivals++); }"
    )
    # New posts arrive while the popup is read: the map waits with its redraw until it is closed.
    with page.expect_response(re.compile(r"/api/map\?")):
        import_records(data, "live-m", live_records(datetime.now(UTC), 2, prefix="livem"))
        page.wait_for_function("() => window.__arrivals > 0")
        page.wait_for_timeout(1000)
        expect(link).to_be_visible()
        page.locator(".leaflet-popup-close-button").click()
    expect(link).to_have_count(0)


XSS_PAGES = ["/", "/posts", "/posts?q=xss0 OR xss1 OR xss2 OR xss3 OR xss4", "/eyewitness", "/stories", "/map"]


def _assert_inert(page: Page, where: str) -> None:
    assert page.evaluate("() => window.__xss") is None, where
    handlers = page.evaluate(
        "() => [...document.querySelectorAll('*')].filter(el => [...el.attributes].some(a => a.name.startsWith('on'))).length"
    )
    assert handlers == 0, where
    links = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.protocol)")
    assert set(links) <= {"http:", "https:"}, (where, set(links))
    bad_rel = page.evaluate(
        "() => [...document.querySelectorAll('a[target=_blank]')].filter(a => !a.relList.contains('noopener')).length"
    )
    assert bad_rel == 0, where


# Leaflet and Leaflet.markercluster say when they animate only in private fields. Still: no zoom
# or pan animation for ten frames in a row (a zoom starts a frame after it is asked for). Waiting
# for this replaces MarkerClusterGroup.zoomToShowLayer, whose callback, for circle markers (no
# _icon), runs only on a "moveend" outside the clusters' zoom animation: asked while the page's
# first fitBounds was still animating, it never ran, and no popup opened.
MAP_STANDS_STILL = """() => new Promise(resolve => {
    const m = window.groundspeedMap;
    const busy = () => m.map._animatingZoom || m.clusters._inZoomAnimation > 0
        || Boolean(m.map._panAnim && m.map._panAnim._inProgress);
    let quiet = 0;
    const tick = () => { quiet = busy() ? 0 : quiet + 1; if (quiet >= 10) resolve(null); else requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
})"""

# A marker drawn on its own (not in a cluster), well inside the map, with nothing on top of it.
LONE_MARKER_IN_VIEW = """() => {
    const m = window.groundspeedMap;
    const size = m.map.getSize();
    const rect = m.map.getContainer().getBoundingClientRect();
    for (const marker of m.clusters.getLayers()) {
        if (!m.map.hasLayer(marker)) continue;
        const p = m.map.latLngToContainerPoint(marker.getLatLng());
        if (p.x < 60 || p.y < 60 || p.x > size.x - 60 || p.y > size.y - 60) continue;
        const top = document.elementFromPoint(rect.left + p.x, rect.top + p.y);
        if (!top || top.tagName !== "CANVAS") continue;
        const uid = encodeURIComponent(marker.options.uid);
        return { x: p.x, y: p.y, api: "/api/post?uid=" + uid, href: "/post?uid=" + uid };
    }
    return null;
}"""


def _wait_until_the_map_stands_still(page: Page) -> None:
    page.evaluate(MAP_STANDS_STILL)


def test_xss_corpus_never_runs(web: Watched) -> None:
    for path in XSS_PAGES:
        page = web.go(path)
        page.wait_for_load_state("networkidle")
        _assert_inert(page, path)
    page = web.go("/posts?q=" + quote("xss0 OR xss1 OR xss2 OR xss3 OR xss4 OR xss5 OR xss6 OR xss7 OR xss8 OR xss9"))
    expect(page.locator("#rows article.post")).to_have_count(10)
    expect(page.locator("#rows").get_by_text("<script>window.__xss=1</script>", exact=False).first).to_be_visible()
    web.shot("xss-stream")
    links = page.locator("#rows article.post footer a", has_text="details").evaluate_all(
        "els => els.map(el => el.getAttribute('href'))"
    )
    for link in links:
        detail = web.go(link)
        detail.locator("details.raw summary").click()
        expect(detail.locator("pre.raw-text")).to_be_visible()
        _assert_inert(detail, link)
    web.shot("xss-post-detail")
    # Map popups of hostile posts (the place name is a payload) are built as text.
    page = web.go("/map?min_confidence=0")
    expect(page.locator("#map")).to_have_attribute("data-points", re.compile(r"[1-9]"))
    page.evaluate(
        """() => { const m = window.groundspeedMap; const box = document.createElement('div'); box.id = 'popups';
                   document.body.appendChild(box);
                   return Promise.all(m.features().filter(f => f.uid.startsWith('x:9900'))
                     .map(f => m.popupFor(f.uid).then(el => { box.appendChild(el); }))).then(() => null); }"""
    )
    expect(page.locator("#popups .map-popup")).to_have_count(10)
    expect(page.locator("#popups")).to_contain_text("<img src=x onerror=")
    expect(page.locator("#popups")).to_contain_text("[U+202E]")
    _assert_inert(page, "map popups")
    # A marker's popup fetches its post when opened: a user clicks a marker of its own (not in a
    # cluster) once the map stands still, and the popup shows that marker's post.
    _wait_until_the_map_stands_still(page)
    target = page.evaluate(LONE_MARKER_IN_VIEW)
    assert target is not None, "no marker of its own in view to click"
    box = page.locator("#map").bounding_box()
    assert box is not None
    with page.expect_response(lambda response: response.url.endswith(target["api"])) as fetched:
        page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    assert fetched.value.status == 200
    link = page.locator(".leaflet-popup-content a", has_text="open the post")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", target["href"])
    expect(page.locator(".leaflet-popup-content .map-popup p").first).not_to_be_empty()
    page.wait_for_timeout(400)  # the popup fades in
    _assert_inert(page, "map popup")
    web.shot("map-popup")


@pytest.fixture
def locked_server(tmp_path: Path) -> Iterator[Any]:
    data = build(tmp_path / "data")
    with running(data, token="browser-test-token-1234") as instance:
        yield instance


def test_login_and_live_updates_survive_a_server_restart(browser: Browser, locked_server: Any) -> None:
    web = _watch(browser, locked_server.url)
    page = web.go("/posts")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#token", "wrong-token-0000")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("not the token")
    page.fill("#token", "browser-test-token-1234")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/posts$"))
    _live(page)
    web.shot("login-then-posts")

    locked_server.stop()
    expect(page.locator("#live")).to_have_attribute("data-state", "reconnecting")
    web.shot("server-down")
    locked_server.start()
    _live(page)  # the browser reconnects by itself, with the same session (signed with the token)
    import_records(locked_server.data, "after-restart", live_records(datetime.now(UTC), 2, prefix="restart"))
    expect(page.locator("#rows article.post", has_text="restart")).to_have_count(2)
    web.shot("after-restart")
    # Errors logged while the server was down (failed event-stream requests) are expected here.
    page.context.close()
    assert web.dialogs == []
    assert web.foreign_requests == []
