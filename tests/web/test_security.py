"""Security of the situation room without a browser: escaping, links, headers, hosts, login, CSRF.
(The browser test runs the same XSS corpus in Chromium and checks that nothing executes.)"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from groundspeed.cli_web import is_loopback, serve
from groundspeed.web import create_app
from groundspeed.web.app import safe_url

from .datasets import XSS, XSS_URLS

TOKEN = "correct-horse-battery-staple"


def _xss_pages(client: TestClient) -> list[str]:
    posts = client.get(
        "/api/posts?q=xss0 OR xss1 OR xss2 OR xss3 OR xss4 OR xss5 OR xss6 OR xss7 OR xss8 OR xss9"
    ).json()
    uids = [post["uid"] for post in posts["posts"]]
    assert len(uids) == 10
    pages = ["/", "/posts", "/posts?q=tehran", "/eyewitness", "/stories", "/tracker", "/map", "/posts?q=xss1"]
    pages += [f"/post?uid={quote(uid, safe='')}" for uid in uids]
    pages += [f"/post/raw?uid={quote(uid, safe='')}" for uid in uids]
    stories = {post["story_id"] for post in posts["posts"] if post["story_id"] is not None}
    pages += [f"/stories/{story}" for story in stories]
    return pages


def test_post_content_is_escaped_everywhere(client: TestClient) -> None:
    for url in _xss_pages(client):
        html = client.get(url).text
        assert "<script>window" not in html, url
        assert not re.search(r"<(img|svg|iframe|details|b|math)\b[^>]*\bon\w+=", html, re.IGNORECASE), url
        assert "{{7*7}}" not in html or "49" not in html.split("{{7*7}}")[0][-5:], url
        for href in re.findall(r'href="([^"]*)"', html):
            assert href.startswith(("/", "http://", "https://", "#")), (url, href)
        for tag in re.findall(r"<a [^>]*>", html):
            if 'href="http' in tag:
                assert 'rel="noopener noreferrer nofollow"' in tag, (url, tag)
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", html), url


def test_payloads_are_shown_as_text(client: TestClient) -> None:
    html = client.get("/posts?q=xss0").text
    assert "&lt;script&gt;" + XSS + "&lt;/script&gt;" in html


def test_direction_overrides_are_made_visible(client: TestClient) -> None:
    html = client.get("/posts?q=xss9").text
    assert "\u202e" not in html and "[U+202E]&lt;script&gt;" in html


def test_template_syntax_in_posts_is_shown_literally(client: TestClient) -> None:
    html = client.get("/posts?q=xss7").text
    assert "{{7*7}} ${7*7} &lt;%= 7*7 %&gt;" in html


@pytest.mark.parametrize(
    "url", [*XSS_URLS[:-1], "ftp://example.org/x", "/relative", "//evil.example/x", "https:/x", None, 5]
)
def test_safe_url_refuses_anything_but_web_links(url: object) -> None:
    assert safe_url(url) == ""


def test_safe_url_keeps_web_links() -> None:
    assert safe_url("https://example.org/a?b=c") == "https://example.org/a?b=c"
    assert safe_url("http://example.org/") == "http://example.org/"
    # A web link with markup in it stays a web link: the attribute is escaped where it is used.
    assert safe_url(XSS_URLS[-1]) == XSS_URLS[-1]


def test_security_headers_on_every_response(client: TestClient) -> None:
    for url in ("/", "/api/posts", "/static/app.js", "/healthz", "/nothing-here", "/metrics"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert ("frame-ancestors 'none'" in csp and "object-src" not in csp) or "default-src 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"


def test_tile_host_allowed_only_when_configured(web_data: Path) -> None:
    app = create_app(web_data, tile_url="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert (
            "img-src 'self' data: https://tile.openstreetmap.org"
            in client.get("/map").headers["content-security-policy"]
        )
    with pytest.raises(ValueError):
        create_app(web_data, tile_url="javascript:alert(1)")
    with pytest.raises(ValueError):
        create_app(web_data, region_tz="Mars/Olympus")


def test_templates_have_no_inline_scripts_or_styles() -> None:
    templates = Path(__file__).resolve().parents[2] / "src" / "groundspeed" / "web" / "templates"
    for template in templates.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "<style" not in text and " style=" not in text and " on" + "click=" not in text, template.name
        assert not re.search(r"\|\s*safe\b(?!_)", text), template.name  # no autoescape bypass


def test_unknown_hosts_are_refused_without_a_token(client: TestClient) -> None:
    assert client.get("/", headers={"host": "evil.example"}).status_code == 421
    assert client.get("/", headers={"host": "localhost:8470"}).status_code == 200
    assert client.get("/", headers={"host": "[::1]:8470"}).status_code == 200


@pytest.fixture
def locked(web_data: Path) -> TestClient:
    return TestClient(create_app(web_data, token=TOKEN), base_url="http://testserver")


def test_login_required_with_a_token(locked: TestClient) -> None:
    page = locked.get("/posts?q=x", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fposts%3Fq%3Dx"
    assert locked.get("/api/posts").status_code == 401
    assert locked.get("/metrics").status_code == 401
    assert locked.get("/api/events").status_code == 401
    assert locked.get("/healthz").status_code == 200
    assert locked.get("/static/app.css").status_code == 200
    assert locked.get("/api/posts?token=" + TOKEN).status_code == 401  # never in URLs
    assert locked.get("/api/posts", headers={"authorization": "Bearer nope"}).status_code == 401
    assert locked.get("/api/posts", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert locked.get("/", headers={"host": "groundspeed.example.org"}, follow_redirects=False).status_code == 303


def _csrf(client: TestClient) -> str:
    client.get("/login")
    token = client.cookies.get("gs_csrf")
    assert token
    return token


def test_login_logout_and_csrf(locked: TestClient) -> None:
    csrf = _csrf(locked)
    assert locked.post("/login", data={"token": TOKEN}, follow_redirects=False).status_code == 403  # no CSRF field
    wrong = locked.post("/login", data={"token": "guess", "csrf_token": csrf}, follow_redirects=False)
    assert wrong.status_code == 401 and "gs_session" not in wrong.headers.get("set-cookie", "")
    cross = locked.post(
        "/login",
        data={"token": TOKEN, "csrf_token": csrf},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross.status_code == 403
    good = locked.post("/login?next=%2Fstories", data={"token": TOKEN, "csrf_token": csrf}, follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == "/stories"
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert TOKEN not in cookie
    page = locked.get("/")
    assert page.status_code == 200 and "Log out" in page.text and TOKEN not in page.text
    assert locked.get("/api/posts").status_code == 200
    assert locked.post("/logout", follow_redirects=False).status_code == 403
    assert locked.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    locked.cookies.delete("gs_session")
    assert locked.get("/api/posts").status_code == 401


def test_login_redirects_only_inside_the_app(locked: TestClient) -> None:
    csrf = _csrf(locked)
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = locked.post(
            "/login?next=" + quote(target, safe=""), data={"token": TOKEN, "csrf_token": csrf}, follow_redirects=False
        )
        assert response.headers["location"] == "/"


def test_forged_and_expired_sessions_are_refused(web_data: Path) -> None:
    app = create_app(web_data, token=TOKEN)
    sessions = app.state.sessions
    good = sessions.new_session()
    assert sessions.valid_session(good)
    issued, signature = good.split(".")
    assert not sessions.valid_session(f"{int(issued) + 1}.{signature}")
    assert not sessions.valid_session(f"1000.{sessions._sign('1000')}")  # older than the session length
    other = create_app(web_data, token=TOKEN + "-changed").state.sessions
    assert not other.valid_session(good)


def test_serve_refuses_to_listen_publicly_without_a_token(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        serve, ["--host", "0.0.0.0", "--data", str(tmp_path), "--no-browser"], env={"GROUNDSPEED_TOKEN": ""}
    )
    assert result.exit_code == 2 and "token" in result.output
    result = runner.invoke(serve, ["--host", "0.0.0.0", "--token", "short", "--data", str(tmp_path), "--no-browser"])
    assert result.exit_code == 2 and "too short" in result.output
    result = runner.invoke(serve, ["--region-tz", "Mars/Olympus", "--data", str(tmp_path), "--no-browser"])
    assert result.exit_code == 2 and "time zone" in result.output
    help_text = runner.invoke(serve, ["--help"]).output
    for option in ("--host", "--port", "--token", "--no-browser", "--region-tz", "--tiles", "--workers", "--data"):
        assert option in help_text
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")
