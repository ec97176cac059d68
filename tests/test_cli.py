"""The command line, driven through click's CliRunner: data on standard output, messages on standard error.

Click 8.2+ keeps the two streams apart in ``result.stdout`` and ``result.stderr`` (``mix_stderr``
is gone); ``result.output`` interleaves them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner, Result

from groundspeed.cli import cli
from groundspeed.export import EXPORT_COLUMNS
from groundspeed.formats import all_formats
from groundspeed.model import Post
from groundspeed.understand.classify import INFO_TYPES
from tests.helpers import FIXTURES, parse_path

ARABIC = FIXTURES / "cli" / "arabic_letters.jsonl"  # Persian typed with Arabic ك and ي, Persian digits
TWEETS = FIXTURES / "x_v1" / "tweets.jsonl"  # 14 posts, 3 broken lines, 4 records that are not posts
MASTODON = FIXTURES / "mastodon" / "timeline.json"
TELEGRAM = FIXTURES / "telegram-export" / "channel_result.json"
LOADED = (ARABIC, TWEETS, MASTODON, TELEGRAM)

FA, EN, AR = "x:1573000000000000001", "x:1573000000000000002", "x:1573000000000000003"

COMMANDS = {
    "import": "Import archive files",
    "search": "Find posts by words",
    "stats": "Counts of posts by platform",
    "export": "Export posts",
    "dehydrate": "Write post ids only",
    "reprocess": "Rebuild the database from the raw posts",
    "quarantine": "Show input that could not be used",
    "formats": "List the file formats",
    "demo": "Import the bundled sample crisis data and open the situation room",
    "tracker": "Follow a crisis",
    "peaks": "Bursts of posts in a tracker",
    "timeline": "Posts over time",
    "eval": "Measure how well",
    "stories": "Stories: posts about the same thing",
    "story": "One story",
    "understand": "Work out, for every stored post",
    "annotate": "Label every text of a CSV",
    "serve": "Open the situation room",
}


def gs(data: Path, *args: str | Path, code: int = 0) -> Result:
    """Run ``groundspeed --data DATA ARGS`` and check its exit status (and that it did not crash)."""
    result = CliRunner().invoke(cli, ["--data", str(data), *map(str, args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, result.output
    return result


def expected_posts(*paths: Path) -> dict[str, Post]:
    """The posts the files hold, by uid, first seen winning (as the store keeps them)."""
    posts: dict[str, Post] = {}
    for path in paths:
        for post in parse_path(path).posts:
            posts.setdefault(post.uid, post)
    return posts


def expected_quarantine(*paths: Path) -> list[str]:
    return [item.locator for path in paths for item in parse_path(path).quarantined]


def jsonl_posts(text: str) -> list[Post]:
    return [msgspec.json.decode(line, type=Post) for line in text.splitlines()]


def uids_in(result: Result) -> list[str]:
    return [post.uid for post in jsonl_posts(result.stdout)]


def errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding four fixtures from four platforms (read-only for the tests using it)."""
    data = tmp_path_factory.mktemp("loaded") / "data"
    gs(data, "import", *LOADED)
    return data


# -- import -----------------------------------------------------------------------------------


def test_import_several_files_reports_on_stderr(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = gs(data, "import", ARABIC, TWEETS, MASTODON)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert f"{ARABIC}: 3 records → 3 new posts, 0 already stored, 0 quarantined, 0 not posts" in "\n".join(lines)
    assert any(
        line.startswith(f"{TWEETS}: 17 records → 14 new posts, 0 already stored, 3 quarantined") for line in lines
    )
    assert any(
        line.startswith(f"{MASTODON}: 6 records → 6 new posts, 1 already stored, 1 quarantined") for line in lines
    )
    assert any(f"{TWEETS}: reading as X (Twitter) API v1.1" in line for line in lines)
    [total] = [line for line in lines if line.startswith("Total")]
    assert total.startswith("Total 3 files (0 failed, 0 left out): 26 records → 23 new posts")
    stats = json.loads(gs(data, "stats", "--json").stdout)
    assert stats["posts"] == len(expected_posts(ARABIC, TWEETS, MASTODON)) == 23
    assert stats["imports"] == 3


def test_import_json_summary_goes_to_stdout(tmp_path: Path) -> None:
    result = gs(tmp_path / "data", "import", "--json", ARABIC, TELEGRAM)
    reports = json.loads(result.stdout)
    assert [(r["path"], r["format"], r["status"]) for r in reports] == [
        (str(ARABIC), "x-v1", "done"),
        (str(TELEGRAM), "telegram-export", "done"),
    ]
    assert [(r["records"], r["posts_new"], r["quarantined"], r["skipped_not_posts"]) for r in reports] == [
        (3, 3, 0, 0),
        (11, 8, 3, 1),
    ]
    assert sum(reports[1]["quarantine_reasons"].values()) == 3
    assert reports[1]["error"] is None
    assert "{" not in result.stderr  # only messages there, no JSON


def test_reimport_says_already_imported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    gs(data, "import", TWEETS)
    before = json.loads(gs(data, "stats", "--json").stdout)
    again = gs(data, "import", TWEETS)
    assert f"{TWEETS}: already imported, nothing new (use --again to read it again)" in again.stderr
    [report] = json.loads(gs(data, "import", "--json", TWEETS).stdout)
    assert (report["status"], report["records"], report["posts_new"]) == ("already imported", 0, 0)
    forced = json.loads(gs(data, "import", "--json", "--again", TWEETS).stdout)
    assert (forced[0]["status"], forced[0]["records"], forced[0]["posts_new"]) == ("done", 17, 0)
    after = json.loads(gs(data, "stats", "--json").stdout)
    assert after["posts"] == before["posts"] == 14


def _latin1_csv(path: Path) -> Path:
    path.write_bytes(
        "id,text,created_at\n"
        "1,Café près de la rivière évacué,2024-01-02T10:00:00Z\n"
        "2,Crème brûlée stand closed,2024-01-03T10:00:00Z\n".encode("latin-1")
    )
    return path


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("missing.jsonl", r"^Error: \S*missing\.jsonl does not exist\.$"),
        ("not_a_feed.xml", r"^Error: Could not tell what kind of file \S*not_a_feed\.xml is .*--format.*\.$"),
        ("latin.csv", r"^Error: \S*latin\.csv is not UTF-8 text \(byte 0xe9 on line 2\)\. .*--encoding latin-1\)\.$"),
    ],
)
def test_a_file_that_cannot_be_imported_fails_alone(bad: str, says: str, tmp_path: Path) -> None:
    path = tmp_path / bad
    if bad == "not_a_feed.xml":
        path.write_bytes((FIXTURES / "rss" / bad).read_bytes())
    elif bad == "latin.csv":
        _latin1_csv(path)
    data = tmp_path / "data"
    result = gs(data, "import", path, ARABIC, code=1)
    [error] = errors(result)
    assert re.match(says, error), error
    assert str(path) in error
    assert "Traceback" not in result.output
    assert f"{ARABIC}: 3 records → 3 new posts" in result.stderr  # the other file is still imported
    assert "Total 2 files (1 failed, 0 left out)" in result.stderr
    assert json.loads(gs(data, "stats", "--json").stdout)["posts"] == 3
    [failed, done] = json.loads(gs(data, "import", "--json", path, ARABIC, code=1).stdout)
    assert (failed["status"], done["status"]) == ("failed", "already imported")
    assert failed["error"] == error.removeprefix("Error: ")


def test_unknown_format_name_is_one_sentence(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = gs(data, "import", "--format", "nope", ARABIC, code=1)
    assert result.stdout == ""
    assert result.stderr.strip() == "Error: There is no format called 'nope'; see `groundspeed formats`."
    assert not (data / "groundspeed.db").exists()  # nothing was imported


def test_latin1_csv_imports_with_its_encoding(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = _latin1_csv(tmp_path / "latin.csv")
    gs(data, "import", "--encoding", "latin-1", path)
    [post] = jsonl_posts(gs(data, "search", "rivière", "-o", "jsonl").stdout)
    assert (post.uid, post.original_text) == ("csv:1", "Café près de la rivière évacué")


def test_import_a_folder_leaves_out_files_that_are_not_posts(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    (folder / "README.md").write_text("# notes\n", encoding="utf-8")
    (folder / "sub" / "a.jsonl").write_bytes(ARABIC.read_bytes())
    (folder / ".hidden.jsonl").write_bytes(TWEETS.read_bytes())
    data = tmp_path / "data"
    result = gs(data, "import", folder)
    assert f"{folder / 'README.md'}: left out, not a file of posts groundspeed can read" in result.stderr
    assert "Total 2 files (0 failed, 1 left out): 3 records → 3 new posts" in result.stderr
    assert json.loads(gs(data, "stats", "--json").stdout)["posts"] == 3  # the hidden file was not read


def test_commands_before_any_import_say_so(tmp_path: Path) -> None:
    result = gs(tmp_path / "data", "stats", code=1)
    assert result.stdout == ""
    [error] = errors(result)
    assert "There is no groundspeed database" in error and "groundspeed import" in error


# -- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("کرمانشاه", {FA, AR}),  # Persian keheh finds text typed with Arabic kaf
        ("كرمانشاه", {FA, AR}),  # and the other way round
        ("ایران", {FA}),  # Persian yeh finds Arabic yeh
        ("1401", {FA}),  # ASCII digits find Persian digits
        ("۱۴۰۱", {FA}),
        ("کرمانشاه OR kermanshah", {FA, EN, AR}),
        ("kermanshah", {EN}),
    ],
)
def test_search_folds_persian_and_arabic(query: str, found: set[str], loaded: Path) -> None:
    result = gs(loaded, "search", query, "-o", "jsonl")
    assert set(uids_in(result)) == found
    assert result.stderr == ""


def test_search_table(loaded: Path) -> None:
    result = gs(loaded, "search", "کرمانشاه", "--sort", "newest")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["time", "(UTC)", "platform", "author", "text", "what,", "where", "uid"]
    assert [line.split()[-1] for line in lines[1:] if line.strip()] == [AR, FA]
    assert "2022-09-21 08:00" in result.stdout and "inv_reporter" in result.stdout
    assert "تجمع در \u0643رمانشاه" in result.stdout  # the text as posted, not the folded form


def test_search_jsonl_is_posts(loaded: Path) -> None:
    posts = jsonl_posts(gs(loaded, "search", "ایران", "-o", "jsonl").stdout)
    stored = expected_posts(ARABIC)[FA]
    [post] = posts
    assert post.original_text == stored.original_text == "تجمع در \u0643رمانشاه، مردم ا\u064aران ۱۴۰۱"
    assert post.text == "تجمع در کرمانشاه, مردم ایران 1401"
    assert (post.lang, post.created_at, post.author.handle) == ("fa", stored.created_at, "inv_reporter")


def test_search_csv(loaded: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(gs(loaded, "search", "کرمانشاه", "-o", "csv", "--sort", "oldest").stdout)))
    assert [row["uid"] for row in rows] == [FA, AR]
    assert [row["lang"] for row in rows] == ["fa", "ar"]
    assert list(rows[0]) == list(EXPORT_COLUMNS)


@pytest.mark.parametrize(
    ("query", "filters", "found"),
    [
        ("کرمانشاه OR kermanshah", ["--since", "2022-09-22"], {EN, AR}),
        ("کرمانشاه OR kermanshah", ["--until", "2022-09-22"], {FA}),
        ("کرمانشاه OR kermanshah", ["--since", "2022-09-21T09:00", "--until", "2022-09-23"], {EN}),
        ("کرمانشاه OR kermanshah", ["--lang", "ar"], {AR}),
        ("کرمانشاه OR kermanshah", ["--lang", "fa", "--lang", "en"], {FA, EN}),
        ("bridge", ["--platform", "x"], {"x:1572000000000000002", "x:1572000000000000010"}),
        ("water", ["--platform", "telegram"], {"telegram:1900000001/4"}),
        ("bridge", ["--platform", "telegram"], set()),
    ],
)
def test_search_filters(query: str, filters: list[str], found: set[str], loaded: Path) -> None:
    result = gs(loaded, "search", query, "-o", "jsonl", *filters)
    assert set(uids_in(result)) == found
    if not found:
        assert result.stdout == ""
        assert result.stderr.strip() == "No posts matched."


def test_search_bridge_on_mastodon(loaded: Path) -> None:
    posts = jsonl_posts(gs(loaded, "search", "bridge", "--platform", "mastodon", "-o", "jsonl").stdout)
    assert posts and {post.platform for post in posts} == {"mastodon"}
    assert all("bridge" in (post.text or "") for post in posts)


def test_search_rejects_a_bad_time(loaded: Path) -> None:
    result = gs(loaded, "search", "bridge", "--since", "yesterday-ish", code=2)
    assert "'yesterday-ish' is not a time" in result.stderr
    assert result.stdout == ""


# -- stats ------------------------------------------------------------------------------------


def test_stats_json(loaded: Path) -> None:
    stats = json.loads(gs(loaded, "stats", "--json").stdout)
    posts = expected_posts(*LOADED)
    assert set(stats) >= {
        "posts",
        "first_post_at",
        "last_post_at",
        "by_platform",
        "by_kind",
        "by_language",
        "by_day",
        "with_location",
        "quarantined",
        "quarantine_by_reason",
        "skipped_not_posts",
        "skipped_by_reason",
        "imports",
    }
    assert stats["posts"] == len(posts) == 31
    assert stats["by_platform"] == {"x": 17, "telegram": 8, "mastodon": 6}
    assert sum(stats["by_kind"].values()) == len(posts)
    assert stats["by_kind"]["repost"] == sum(post.kind == "repost" for post in posts.values())
    assert (stats["by_language"]["fa"], stats["by_language"]["ar"]) == (2, 1)
    assert stats["by_day"]["2022-09-21"] == 1
    assert stats["quarantined"] == len(expected_quarantine(*LOADED)) == 7
    assert stats["skipped_not_posts"] == 5
    assert stats["imports"] == 4
    assert stats["first_post_at"].startswith("2022-09-20T10:00:00")


def test_stats_filtered_and_as_text(loaded: Path) -> None:
    stats = json.loads(gs(loaded, "stats", "--json", "--platform", "x", "--lang", "fa").stdout)
    assert (stats["posts"], stats["by_platform"]) == (2, {"x": 2})
    text = gs(loaded, "stats").stdout
    assert text.startswith("31 posts  from 2022-09-20T10:00:00")
    assert "Platforms: x 17, telegram 8, mastodon 6" in text
    assert "Quarantined: 7" in text


# -- export -----------------------------------------------------------------------------------


def test_export_jsonl(loaded: Path, tmp_path: Path) -> None:
    result = gs(loaded, "export")
    posts = jsonl_posts(result.stdout)
    expected = expected_posts(*LOADED)
    assert sorted(post.uid for post in posts) == sorted(expected)
    assert result.stderr.strip() == f"Exported {len(expected)} posts"
    fa = next(post for post in posts if post.uid == FA)
    assert fa == msgspec.structs.replace(expected[FA], collected_at=fa.collected_at, provenance=fa.provenance)
    insight = next(row for row in map(json.loads, result.stdout.splitlines()) if row["uid"] == FA)["insight"]
    assert insight["detected_language"] == "fa" and insight["info_type"] in INFO_TYPES
    assert fa.raw is not None and fa.raw.locator == f"{ARABIC}:1"
    out = tmp_path / "posts.jsonl"
    to_file = gs(loaded, "export", "-f", "jsonl", "--lang", "fa", "-o", out)
    assert to_file.stdout == ""
    # --lang is the detected language: the Telegram post has no tag from its platform, but is Persian.
    assert to_file.stderr.strip() == f"Exported 3 posts to {out}"
    assert {post.uid for post in jsonl_posts(out.read_text(encoding="utf-8"))} == {
        FA,
        "x:1572000000000000007",
        "telegram:1900000001/2",
    }


def test_export_csv(loaded: Path) -> None:
    rows = list(csv.reader(io.StringIO(gs(loaded, "export", "-f", "csv", "--platform", "x").stdout)))
    assert rows[0] == list(EXPORT_COLUMNS)
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(body) == 17
    assert {row["platform"] for row in body} == {"x"}
    fa = next(row for row in body if row["uid"] == FA)
    assert fa["original_text"] == expected_posts(ARABIC)[FA].original_text
    assert fa["created_at"] == "2022-09-21T08:00:00.000000+00:00"
    tagged = next(row for row in body if row["uid"] == "x:1572000000000000007")
    assert tagged["hashtags"] == "مهسا_امینی; زن_زندگی_آزادی"
    # What the understanding stage found comes along (the import ran it).
    assert fa["detected_language"] == "fa" and fa["info_type"] in INFO_TYPES
    assert 0.0 <= float(fa["informative"]) <= 1.0 and fa["first_hand"] in ("0", "1")


def test_export_parquet(loaded: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "posts.parquet"
    result = gs(loaded, "export", "-f", "parquet", "-o", out)
    assert result.stderr.strip() == f"Exported 31 posts to {out}"
    table = pq.read_table(out)
    assert table.num_rows == 31
    assert table.column_names == list(EXPORT_COLUMNS)
    assert table.column("detected_language").null_count < table.num_rows  # the insights came along
    assert set(table.column("first_hand").to_pylist()) <= {0, 1}
    assert sorted(table.column("uid").to_pylist()) == sorted(expected_posts(*LOADED))
    assert gs(loaded, "export", "-f", "parquet", code=1).stderr.strip() == (
        "Error: Parquet needs a file: add --output posts.parquet"
    )


def test_export_raw_gives_back_the_lines_as_received(tmp_path: Path) -> None:
    data = tmp_path / "data"
    gs(data, "import", ARABIC, TWEETS)
    result = gs(data, "export", "-f", "raw", "--since", "2022-09-21", "--until", "2022-09-24")  # ARABIC's posts
    # Long lines are compared outside assert: pytest's diff of them can take minutes.
    same = result.stdout_bytes == ARABIC.read_bytes()
    assert same, "raw export differs from the file imported"
    assert result.stderr.strip() == "Exported 3 raw records"
    everything = gs(data, "export", "-f", "raw").stdout_bytes.splitlines()
    # every record that gave a post, once, in file order (a retweet line holds two posts)
    stored = {int(post.raw.locator.rsplit(":", 1)[1]) - 1 for post in expected_posts(TWEETS).values() if post.raw}
    lines = TWEETS.read_bytes().splitlines()
    same = everything[3:] == [line for index, line in enumerate(lines) if index in stored]
    assert same, "raw export differs from the lines that gave posts"
    assert len(everything) == 3 + len(stored) == 3 + 10


# -- dehydrate --------------------------------------------------------------------------------


def test_dehydrate(loaded: Path, tmp_path: Path) -> None:
    result = gs(loaded, "dehydrate", "--platform", "x")
    ids = result.stdout.splitlines()
    expected = [post.native_id for post in expected_posts(*LOADED).values() if post.platform == "x"]
    assert sorted(ids) == sorted(expected)
    assert len(ids) == 17 and all(native.isdigit() for native in ids)
    assert result.stderr.strip() == "Wrote 17 ids"
    out = tmp_path / "ids.txt"
    gs(loaded, "dehydrate", "--lang", "ar", "-o", out)
    assert out.read_text(encoding="utf-8") == "1573000000000000003\n"


# -- quarantine -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(data folder, file): the Arabic fixture with a broken fourth line."""
    folder = tmp_path_factory.mktemp("q")
    path = folder / "broken.jsonl"
    path.write_bytes(ARABIC.read_bytes() + b'{"id_str": "1573000000000000009", "text": "cut sho\n')
    data = folder / "data"
    result = gs(data, "import", path)
    assert "3 new posts, 0 already stored, 1 quarantined" in result.stderr
    assert "see them with: groundspeed quarantine" in result.stderr
    return data, path


def test_quarantine_lists_the_broken_line(broken: tuple[Path, Path]) -> None:
    data, path = broken
    result = gs(data, "quarantine")
    assert result.stdout.splitlines()[0].split()[:2] == ["where", "reason"]
    assert f"{path.name}:4" in result.stdout
    assert "not valid JSON" in result.stdout
    assert '"cut sho' in result.stdout


def test_quarantine_json(broken: tuple[Path, Path]) -> None:
    data, path = broken
    [item] = [json.loads(line) for line in gs(data, "quarantine", "--json").stdout.splitlines()]
    assert item["locator"] == f"{path}:4"
    assert item["source"] == f"file:{path.resolve()}"
    assert item["reason"].startswith("not valid JSON")
    assert item["excerpt"] == '{"id_str": "1573000000000000009", "text": "cut sho'
    assert item["spool_seq"] == 3


def test_quarantine_source_filter_and_limit(loaded: Path) -> None:
    items = [
        json.loads(line)
        for line in gs(loaded, "quarantine", "--json", "--source", "channel_result").stdout.splitlines()
    ]
    assert sorted(item["locator"] for item in items) == sorted(expected_quarantine(TELEGRAM))
    assert len(items) == 3
    limited = gs(loaded, "quarantine", "--limit", "2")
    assert limited.stderr.strip() == "Showing 2 of 7; use --limit to see more."
    assert f"{TWEETS.name}:15" in limited.stdout


def test_empty_quarantine(tmp_path: Path) -> None:
    data = tmp_path / "data"
    gs(data, "import", ARABIC)
    result = gs(data, "quarantine")
    assert (result.stdout, result.stderr.strip()) == ("", "Nothing is in quarantine.")


# -- reprocess --------------------------------------------------------------------------------


def test_reprocess(tmp_path: Path) -> None:
    data = tmp_path / "data"
    gs(data, "import", TWEETS, TELEGRAM)
    before = json.loads(gs(data, "stats", "--json").stdout)
    exported = gs(data, "export").stdout
    result = gs(data, "reprocess")
    assert result.stderr.strip() == "Rebuilt: 22 posts, 0 duplicates collapsed, 6 quarantined, 5 not posts"
    after = json.loads(gs(data, "stats", "--json").stdout)
    assert after == before
    same = gs(data, "export").stdout == exported
    assert same, "reprocess changed the exported posts"


# -- formats, demo, help ----------------------------------------------------------------------


def test_formats_lists_every_format() -> None:
    result = CliRunner().invoke(cli, ["formats"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert names == [fmt.name for fmt in all_formats()]
    for fmt in all_formats():
        assert f"{fmt.name:<18} {fmt.title}" in result.stdout
    details = CliRunner().invoke(cli, ["formats", "--details"])
    assert details.exit_code == 0
    assert len(details.stdout) > 2 * len(result.stdout)


def _sample_files() -> Iterator[Path]:
    folder = resources.files("groundspeed") / "samples"
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.startswith(("README", "_")):
            yield Path(str(entry))


def test_demo(tmp_path: Path) -> None:
    samples = list(_sample_files())
    assert samples, "the bundled sample is missing"
    data = tmp_path / "data"
    result = gs(data, "demo", "--no-serve")
    expected = expected_posts(*samples)
    assert result.stdout.startswith(f"{len(expected):,} posts  from ")
    assert 'Try: groundspeed search "تهران OR tehran"' in result.stdout
    assert f"Importing the bundled sample into {data}/" in result.stderr
    stats = json.loads(gs(data, "stats", "--json").stdout)
    assert stats["posts"] == len(expected)
    assert set(stats["by_platform"]) == {post.platform for post in expected.values()}
    assert stats["quarantined"] == sum(len(parse_path(path).quarantined) for path in samples)
    again = gs(data, "demo", "--no-serve")  # a second run imports nothing twice
    assert "already imported" in again.stderr
    assert json.loads(gs(data, "stats", "--json").stdout)["posts"] == len(expected)
    assert gs(data, "search", "تهران OR tehran", "-o", "jsonl").stdout  # the suggested search finds posts


@pytest.mark.parametrize(("command", "purpose"), list(COMMANDS.items()))
def test_help(command: str, purpose: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: cli {command} [OPTIONS]")
    assert purpose in " ".join(result.stdout.split())


def test_main_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = re.findall(r"^  (\w+)\s", result.stdout.split("Commands:")[1], flags=re.MULTILINE)
    assert sorted(listed) == sorted(COMMANDS)
    assert "Follow a crisis through social media." in result.stdout
    version = CliRunner().invoke(cli, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("groundspeed, version ")


# -- text from the data is printed as text, never as rich markup --------------------------------


@pytest.fixture
def bracketed(tmp_path: Path) -> Path:
    """A data folder with a post, and a broken record, that contain [/quote] (forum BBCode)."""
    path = tmp_path / "forum.jsonl"
    path.write_text(
        json.dumps(
            {"id": "1", "text": "flood [b]warning[/b] as quoted [/quote] end", "created_at": "2024-01-01T00:00:00Z"}
        )
        + '\n{"id": "2", "text": "[/quote] cut\n',
        encoding="utf-8",
    )
    data = tmp_path / "data"
    gs(data, "import", "--format", "jsonl", path)
    return data


def test_search_table_prints_brackets_in_posts(bracketed: Path) -> None:
    result = gs(bracketed, "search", "flood")
    assert "flood [b]warning[/b] as quoted [/quote] end" in result.stdout


def test_quarantine_table_prints_brackets_in_records(bracketed: Path) -> None:
    result = gs(bracketed, "quarantine")
    assert '"[/quote] cut' in result.stdout


def test_import_names_the_detected_format(tmp_path: Path) -> None:
    result = gs(tmp_path / "data", "import", ARABIC)
    assert "[x-v1]" in result.stderr


def test_error_messages_keep_brackets_in_file_names(tmp_path: Path) -> None:
    path = tmp_path / "[draft] tweets.jsonl"
    result = gs(tmp_path / "data", "import", path, code=1)
    assert errors(result) == [f"Error: {path} does not exist."]


def test_demo_sets_up_a_fresh_folder_then_serves_the_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[Path, int, bool, float]] = []

    def fake_serve(ctx: object, root: Path, *, port: int, no_browser: bool, minutes: float) -> None:
        served.append((root, port, no_browser, minutes))

    monkeypatch.setattr("groundspeed.cli._serve_with_replay", fake_serve)
    data = tmp_path / "fresh"  # does not exist yet
    gs(data, "demo", "--no-browser", "--port", "9999", "--minutes", "2")
    assert served == [(data, 9999, True, 2.0)]
    assert (data / "trackers.toml").exists()  # the sample tracker, for the pages to show
    # Nothing imported yet: the replay brings the posts in while the pages are open.
    assert json.loads(gs(data, "stats", "--json").stdout)["posts"] == 0
