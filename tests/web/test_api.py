"""The situation room's pages and JSON API, through Starlette's test client (no browser)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from groundspeed.web import create_app

from .datasets import TRACKER_NAME

PAGES = [
    "/",
    "/tracker",
    f"/tracker?name={quote(TRACKER_NAME)}",
    "/stories",
    f"/stories?tracker={quote(TRACKER_NAME)}",
    "/posts",
    "/posts?q=tehran",
    "/posts?lang=fa&canonical=1",
    "/eyewitness",
    "/map",
    "/api",
]


def test_every_page_renders(client: TestClient) -> None:
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/html")
        assert "<main" in response.text


def test_overview_lists_trackers_and_sources(client: TestClient) -> None:
    page = client.get("/").text
    assert TRACKER_NAME in page and "All posts" in page and "Sources" in page
    data = client.get("/api/overview").json()
    names = [row["name"] for row in data["trackers"]]
    assert names[0] is None and TRACKER_NAME in names
    tracker = next(row for row in data["trackers"] if row["name"] == TRACKER_NAME)
    assert tracker["posts"] > 0 and tracker["canonical"] <= tracker["posts"]
    everything = data["trackers"][0]
    assert everything["last_peak"] is not None  # the sample has bursts
    assert data["sources"] and all(source["status"] for source in data["sources"])
    assert client.get("/api/trackers").json() == data["trackers"]


def test_timeline_with_peaks_and_breakdowns(client: TestClient) -> None:
    data = client.get("/api/timeline").json()
    assert data["series"] == "all" and len(data["times"]) == len(data["posts"]) == len(data["canonical"])
    assert sum(data["posts"]) >= sum(data["canonical"]) > 0
    assert data["peaks"], "the sample's bursts are recorded"
    by_language = client.get("/api/timeline?by=language").json()
    assert {"fa", "en"} <= set(by_language["breakdown"])
    assert all(len(values) == len(by_language["times"]) for values in by_language["breakdown"].values())
    tracker = client.get("/api/timeline", params={"tracker": TRACKER_NAME, "by": "platform", "bin": "60"}).json()
    assert tracker["bin_minutes"] == 60 and tracker["breakdown"]
    assert sum(sum(values) for values in tracker["breakdown"].values()) == sum(tracker["posts"])
    assert client.get("/api/timeline?by=colour").status_code == 400
    assert client.get("/api/timeline?bin=abc").status_code == 400


def test_peak_page_explains(client: TestClient) -> None:
    peak = client.get("/api/peaks").json()[0]
    params = {"series": peak["series"], "bin": str(peak["bin_minutes"]), "start": peak["start_at"]}
    detail = client.get("/api/peak", params=params).json()
    assert detail["explanation"]["posts_to_read"]
    page = client.get("/peak", params=params)
    assert page.status_code == 200 and "Posts to read first" in page.text
    assert client.get("/peak", params={**params, "start": "1999-01-01T00:00:00+00:00"}).status_code == 404


def test_stories_board_and_story(client: TestClient) -> None:
    stories = client.get("/api/stories?limit=100").json()
    assert stories and all("first_post" in story for story in stories)
    story_id = stories[0]["id"]
    detail = client.get(f"/api/stories/{story_id}").json()
    assert detail["posts_list"] and detail["id"] == story_id
    assert client.get(f"/stories/{story_id}").status_code == 200
    assert client.get("/stories/999999").status_code == 404
    assert client.get("/api/stories/999999").status_code == 404
    board = client.get("/stories").text
    for lane in ("New", "Growing", "Steady"):
        assert f">{lane} <" in board


def test_post_stream_filters_and_paging(client: TestClient) -> None:
    first = client.get("/api/posts?limit=20").json()
    posts = first["posts"]
    assert len(posts) == 20 and first["next"]
    times = [post["created_at"] for post in posts]
    assert times == sorted(times, reverse=True)
    second = client.get("/api/posts", params={"limit": "20", "before": first["next"]}).json()
    assert not {post["uid"] for post in posts} & {post["uid"] for post in second["posts"]}
    assert second["posts"][0]["created_at"] <= times[-1]

    persian = client.get("/api/posts?lang=fa&limit=100").json()["posts"]
    assert persian and all((post["insight"] or {}).get("language", post["lang"]) == "fa" for post in persian)
    eyewitness = client.get("/api/eyewitness?limit=100").json()["posts"]
    assert eyewitness and all(post["insight"]["is_eyewitness"] for post in eyewitness)
    canonical = client.get("/api/posts?canonical=1&limit=200").json()["posts"]
    assert all(post["canonical"] for post in canonical)
    tracked = client.get("/api/posts", params={"tracker": TRACKER_NAME, "limit": "500"}).json()["posts"]
    assert tracked and len(tracked) < len(client.get("/api/posts?limit=500").json()["posts"])
    reposts = client.get("/api/posts?kind=repost").json()["posts"]
    assert all(post["kind"] == "repost" for post in reposts)
    placed = client.get("/api/posts?place=Tehran").json()["posts"]
    assert placed and all(post["insight"]["place_name"] == "Tehran" for post in placed)
    newest = first["last_post_id"]
    assert client.get(f"/api/posts?after_id={newest}").json()["posts"] == []
    assert client.get(f"/api/posts?after_id={newest - 3}").json()["posts"]


def test_search_in_persian_and_english(client: TestClient) -> None:
    english = client.get("/api/posts?q=tehran").json()["posts"]
    assert english and all("tehran" in (post["text"] or "").lower() for post in english)
    persian = client.get("/api/posts", params={"q": "تهران"}).json()["posts"]
    assert persian
    page = client.get("/posts", params={"q": "تهران"})
    assert page.status_code == 200 and "تهران" in page.text
    bad = client.get("/api/posts", params={"q": '"unbalanced'})
    assert bad.status_code in (200, 400)  # quotes are repaired or refused, never a server error
    assert client.get("/api/posts", params={"q": "AND OR"}).status_code == 400
    assert client.get("/posts", params={"q": "AND OR"}).status_code == 400


def test_htmx_fragments(client: TestClient) -> None:
    results = client.get("/posts?q=tehran", headers={"HX-Request": "true", "HX-Target": "results"})
    assert results.text.lstrip().startswith('<section id="results"')
    newest = client.get("/api/posts?limit=1").json()["last_post_id"]
    rows = client.get(f"/posts?fragment=rows&after_id={newest - 2}")
    assert rows.text.count('<article class="post') == 2
    assert "<html" not in rows.text
    assert "<table" in client.get("/?fragment=1").text


def test_post_detail(client: TestClient) -> None:
    reposts = client.get("/api/posts?kind=repost&limit=50").json()["posts"]
    post = next(post for post in reposts if post["reposted_uid"])
    detail = client.get("/api/post", params={"uid": post["uid"]}).json()
    assert detail["post"]["uid"] == post["uid"]
    assert post["reposted_uid"] in detail["related"]
    original = client.get("/api/post", params={"uid": post["reposted_uid"]}).json()
    assert any(item["uid"] == post["uid"] for item in original["amplifiers"])
    page = client.get("/post", params={"uid": post["uid"]}).text
    for section in ("Original text", "Translation", "Provenance", "Copies and amplifiers", "Raw payload"):
        assert section in page
    raw = client.get("/api/post/raw", params={"uid": post["uid"]}).json()["raw"]
    assert raw.startswith("{")
    assert "<pre" in client.get("/post/raw", params={"uid": post["uid"]}).text
    assert client.get("/api/post", params={"uid": "nope:1"}).status_code == 404
    assert client.get("/post", params={"uid": "nope:1"}).status_code == 404


def test_map_geojson_and_confidence(client: TestClient) -> None:
    everything = client.get("/api/map").json()
    assert everything["type"] == "FeatureCollection" and everything["features"]
    feature = everything["features"][0]
    lon, lat = feature["geometry"]["coordinates"]
    assert -180 <= lon <= 180 and -90 <= lat <= 90
    confident = client.get("/api/map?min_confidence=0.8").json()["features"]
    assert 0 < len(confident) < len(everything["features"])
    assert all(f["properties"]["confidence"] >= 0.8 for f in confident)
    eyewitness = client.get("/api/map?eyewitness=1").json()["features"]
    assert eyewitness and all(f["properties"]["eyewitness"] for f in eyewitness)
    assert client.get("/api/map?min_confidence=high").status_code == 400


def test_healthz_and_metrics(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["last_post_id"] > 0
    client.get("/")
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    for name in (
        "groundspeed_up 1",
        "groundspeed_posts_stored",
        "groundspeed_ingest_rate_posts_per_second",
        "groundspeed_ingest_lag_seconds",
        "groundspeed_queue_depth_records 0",
        "groundspeed_source_state{",
        "groundspeed_http_requests_total{",
        'route="/"',
    ):
        assert name in text, name


def test_openapi_describes_every_api_route(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    documented = set(spec["paths"])
    routes = {
        route.path
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route) and (route.path.startswith("/api/") or route.path in ("/healthz", "/metrics"))
    }
    routes = {path.replace("{story_id:int}", "{story_id}") for path in routes}
    assert routes == documented
    page = client.get("/api").text
    for path in documented:
        assert path in page


def test_live_state_changes_with_new_posts(web_data: Path) -> None:
    from groundspeed.store import views

    connection = sqlite3.connect(web_data / "groundspeed.db")
    connection.row_factory = sqlite3.Row
    state = views.cursor(connection)
    assert state["last_post_id"] > 0 and state["peaks"] > 0 and state["stories"] > 0
    connection.close()


def test_event_stream_sends_state(web_data: Path) -> None:
    import asyncio

    app = create_app(web_data)
    live = app.state.live

    async def first_message() -> str:
        stream = live.events()
        try:
            return await stream.__anext__()
        finally:
            await stream.aclose()

    message = asyncio.run(first_message())
    assert message.startswith("retry: ") and "event: state" in message and '"last_post_id"' in message
    assert live.streams == 0


def test_empty_data_folder(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "nothing"), base_url="http://127.0.0.1") as client:
        for url in ("/", "/posts", "/stories", "/map", "/eyewitness", "/tracker"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert "No posts yet" in response.text or url == "/map"
        assert client.get("/api/posts").status_code == 503
        assert client.get("/healthz").json() == {"status": "ok", "database": "none yet"}
        assert "groundspeed_up 0" in client.get("/metrics").text


def test_folder_without_insights(tmp_path: Path, web_data: Path) -> None:
    """A data folder made before the understanding stage existed (no post_insights table)."""
    import shutil

    copy = tmp_path / "old"
    shutil.copytree(web_data, copy)
    connection = sqlite3.connect(copy / "groundspeed.db")
    connection.execute("DROP TABLE post_insights")
    connection.commit()
    connection.close()
    with TestClient(create_app(copy), base_url="http://127.0.0.1") as client:
        for url in (
            "/",
            "/posts?lang=fa",
            "/eyewitness",
            "/api/map",
            "/api/posts?eyewitness=1",
            "/api/timeline?by=language",
        ):
            assert client.get(url).status_code == 200, url
        assert client.get("/api/posts?eyewitness=1").json()["posts"] == []
        assert client.get("/api/posts?lang=fa").json()["posts"]
        post = client.get("/api/posts?limit=1").json()["posts"][0]
        assert client.get("/post", params={"uid": post["uid"]}).status_code == 200


def test_search_walks_the_time_index_for_common_words(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from groundspeed.store import views

    monkeypatch.setattr(views, "_many_matches", lambda connection, match: False)
    sorted_page = client.get("/api/posts?q=tehran&limit=30").json()["posts"]
    monkeypatch.setattr(views, "_many_matches", lambda connection, match: True)
    walked_page = client.get("/api/posts?q=tehran&limit=30").json()["posts"]
    assert [post["uid"] for post in sorted_page] == [post["uid"] for post in walked_page]
    assert len(walked_page) == 30


def test_map_columns_for_the_page(client: TestClient) -> None:
    geojson = client.get("/api/map?min_confidence=0.5").json()
    columns = client.get("/api/map?min_confidence=0.5&format=columns").json()
    assert columns["count"] == len(geojson["features"]) == len(columns["uid"]) == len(columns["lat"])
    assert columns["uid"] == [feature["properties"]["uid"] for feature in geojson["features"]]
    assert client.get("/api/map?format=kml").status_code == 400


def test_report_type_filter_and_menus(client: TestClient) -> None:
    typed = client.get("/api/posts?info_type=caution_and_advice&limit=100").json()["posts"]
    assert typed and all(post["insight"]["info_type"] == "caution_and_advice" for post in typed)
    page = client.get("/posts").text
    assert 'name="info_type"' in page and '<option value="caution_and_advice"' in page
    assert '<option value="fa">Persian (fa)</option>' in page and '<option value="telegram">' in page


def test_data_folder_from_an_older_groundspeed(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    connection = sqlite3.connect(folder / "groundspeed.db")
    connection.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    with TestClient(create_app(folder), base_url="http://127.0.0.1") as client:
        assert "older groundspeed" in client.get("/").text
        assert client.get("/api/posts").status_code == 503


def test_map_of_one_story(client: TestClient) -> None:
    everything = client.get("/api/map?format=columns").json()
    placed = client.get("/api/posts?place=Tehran&limit=100").json()["posts"]
    story_id = next(post["story_id"] for post in placed if post["story_id"] is not None)
    story = client.get(f"/api/map?format=columns&story={story_id}").json()
    assert 0 < story["count"] < everything["count"]
    members = {post["uid"] for post in client.get(f"/api/stories/{story_id}").json()["posts_list"]}
    assert set(story["uid"]) <= members or len(members) == 50
    page = client.get(f"/map?story={story_id}")
    assert f'name="story" value="{story_id}"' in page.text
    assert f"/map?story={story_id}" in client.get(f"/stories/{story_id}").text
