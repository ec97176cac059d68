"""The importer contract: every registered format, run over every fixture it reads, passes the same checks.

Like river's estimator checks, the checks are written once and applied to each (format, fixture)
pair, so a new format gets them for free and a format without fixtures fails the suite:

* detection: ``--format auto`` picks the format the fixture was written for;
* well-formed posts: uid, kind, aware UTC times, provenance, raw pointers, normalised text, unknown
  values as None (never ""), no negative counts, well-formed links between posts;
* nothing disappears: every raw record gives posts, quarantined problems or counted skips;
* idempotence: importing a file twice, or again with ``again=True``, adds no posts;
* round trip: what the store gives back is exactly what the importer made (first seen wins);
* reprocess: rebuilding from the spool gives the same posts and the same quarantine;
* bad input: a broken line or row is quarantined with its ``file:line``; a corrupt document is
  refused with an error that names the file, and nothing half-read is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import msgspec
import pytest

from groundspeed import __version__
from groundspeed.errors import InputError, UnknownFormatError
from groundspeed.formats import all_formats, get_format
from groundspeed.formats.framing import InputFile, split_file
from groundspeed.model import POST_KINDS, Post
from groundspeed.parse import ParsedBatch, parse_frame
from groundspeed.spool import FrameBody
from groundspeed.text import normalise
from groundspeed.workspace import ImportReport, Workspace
from tests.helpers import FIXTURES, RECEIVED_AT_US, detect_format, parse_path


@dataclass(frozen=True)
class Case:
    """One fixture file and the format that reads it."""

    format: str
    name: str  # relative to tests/fixtures
    auto: bool = True  # --format auto is meant to pick this format
    options: tuple[tuple[str, str], ...] = ()
    listed: bool = True  # False: found on disk, not in CASES; its format is what detection says

    @property
    def path(self) -> Path:
        return FIXTURES / self.name

    @property
    def option_dict(self) -> dict[str, str] | None:
        return dict(self.options) or None

    @property
    def format_name(self) -> str:
        """What to pass to the importer: auto where detection is part of the contract."""
        return "auto" if self.auto else self.format

    def __str__(self) -> str:
        return f"{self.format}:{self.name}"


# Format name -> the fixtures it reads. A fixture file on disk that is not listed here is still
# checked (see _discovered); list it here so its expected format is checked too.
CASES: tuple[Case, ...] = (
    Case("x-v1", "x_v1/tweets.jsonl"),
    Case("x-v1", "x_v1/search.json"),
    Case("x-v1", "x_v1/search_pages.jsonl"),
    Case("x-v1", "x_v1/timeline.json"),
    Case("x-v1", "cli/arabic_letters.jsonl"),
    Case("x-v2", "x_v2/counts.jsonl"),
    Case("x-v2", "x_v2/flat_head.jsonl"),
    Case("x-v2", "x_v2/geo_tweets.jsonl"),
    Case("x-v2", "x_v2/lists.jsonl"),
    Case("x-v2", "x_v2/media_tweet.jsonl"),
    Case("x-v2", "x_v2/streaming_output_with_error.jsonl"),
    Case("x-v2", "x_v2/synthetic_pages.jsonl"),
    Case("x-v2", "x_v2/synthetic_users.jsonl"),
    Case("x-v2", "x_v2/tweets_compliance.jsonl"),
    Case("x-v2", "x_v2/two_tweets.jsonl"),
    Case("x-flat-csv", "x_flat_csv/flat_archive.csv"),
    Case("bluesky-jetstream", "bluesky-jetstream/jetstream_corpus_excerpt.jsonl"),
    Case("bluesky-jetstream", "bluesky-jetstream/jetstream_golden.jsonl"),
    Case("bluesky-jetstream", "bluesky-jetstream/jetstream_synthetic.jsonl"),
    Case("mastodon", "mastodon/context.json"),
    Case("mastodon", "mastodon/search.json"),
    Case("mastodon", "mastodon/status.json"),
    Case("mastodon", "mastodon/statuses.jsonl"),
    Case("mastodon", "mastodon/stream.jsonl"),
    Case("mastodon", "mastodon/timeline.json"),
    Case("telegram-export", "telegram-export/channel_result.json"),
    Case("telegram-export", "telegram-export/full_export.json"),
    Case("rss", "rss/rss2.xml"),
    Case("rss", "rss/atom.xml"),
    Case("rss", "rss/rdf.xml"),
    Case("rss", "rss/not_a_feed.xml", auto=False),  # XML that is no feed: read only when asked
    Case("warc", "warc/sfm_v1_user_timeline.warc.gz"),
    Case("warc", "warc/sfm_v2_search_empty.warc.gz"),
    Case("warc", "warc/sfm_v2_user_tweets.warc.gz"),
    Case("csv", "generic/labelled_no_ids.tsv"),
    Case("csv", "generic/labelled_tweets.csv"),
    Case("csv", "generic/slim_stream.csv"),
    Case("csv", "generic/stream_export.csv"),
    Case("csv", "generic/telegram_channel.csv", options=(("id_prefix", "sut_tw/"),)),
    Case("csv", "generic/tweet_ids.csv"),
    Case("jsonl", "generic/scraper_tweets.jsonl"),
    Case("jsonl", "generic/wrapped_posts.json"),
)

_NOT_FIXTURES = re.compile(r"(\.(md|py|txt)$)|(^(LICENSE|SOURCE|README))", re.IGNORECASE)
# Fixtures of other parts that are not importer input (a dataset laid out for `eval peaks`).
_OTHER_FIXTURE_DIRS = ("crisislex_t26_mini/",)


def _fixture_files() -> list[str]:
    return sorted(
        path.relative_to(FIXTURES).as_posix()
        for path in FIXTURES.rglob("*")
        if path.is_file()
        and not _NOT_FIXTURES.search(path.name)
        and not path.name.startswith(".")
        and not path.relative_to(FIXTURES).as_posix().startswith(_OTHER_FIXTURE_DIRS)
    )


def _discovered() -> tuple[Case, ...]:
    """Fixture files not in CASES (added since): checked too, with the format detection gives."""
    listed = {case.name for case in CASES}
    extra: list[Case] = []
    for name in _fixture_files():
        if name in listed:
            continue
        try:
            fmt = detect_format(FIXTURES / name).name
        except InputError:
            fmt = "undetected"  # test_detection reports it as skipped
        extra.append(Case(fmt, name, listed=False))
    return tuple(extra)


ALL_CASES = CASES + _discovered()
READABLE = [case for case in ALL_CASES if case.format != "undetected"]
AUTO = [case for case in READABLE if case.auto]


def case_params(cases: list[Case] | tuple[Case, ...]) -> list[object]:
    return [pytest.param(case, id=str(case)) for case in cases]


@cache
def parsed(case: Case) -> ParsedBatch:
    """The posts, problems and skips of a fixture, without a store (tests/helpers.parse_path)."""
    return parse_path(case.path, None if case.auto else case.format, case.option_dict)


def first_seen(posts: list[Post]) -> dict[str, Post]:
    """Posts by uid, the first of duplicates winning (as the store keeps them)."""
    chosen: dict[str, Post] = {}
    for post in posts:
        chosen.setdefault(post.uid, post)
    return chosen


def import_case(workspace: Workspace, case: Case, path: Path | None = None, *, again: bool = False) -> ImportReport:
    return workspace.import_file(path or case.path, format_name=case.format_name, options=case.option_dict, again=again)


def stored_uids(workspace: Workspace) -> set[str]:
    return {row[0] for row in workspace.store().connection.execute("SELECT uid FROM posts")}


def counts(workspace: Workspace) -> tuple[int, int, int]:
    """(posts, quarantined, skipped) in the store."""
    summary = workspace.store().stats()
    return summary["posts"], summary["quarantined"], summary["skipped_not_posts"]


# -- the registry is covered ------------------------------------------------------------------


@pytest.mark.parametrize("format_name", [fmt.name for fmt in all_formats()])
def test_every_format_has_fixtures(format_name: str) -> None:
    names = [case.name for case in READABLE if case.format == format_name]
    assert names, f"format {format_name!r} has no fixture in tests/fixtures; add one and list it in CASES"


def test_every_listed_fixture_exists_and_names_a_registered_format() -> None:
    registered = {fmt.name for fmt in all_formats()}
    for case in CASES:
        assert case.path.is_file(), f"{case.name} is listed in CASES but does not exist"
        assert case.format in registered, f"{case} names a format that is not registered"
    assert len({case.name for case in CASES}) == len(CASES), "a fixture is listed twice"


# -- (a) detection ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params(ALL_CASES))
def test_detection(case: Case) -> None:
    if case.format == "undetected":
        pytest.skip(f"{case.name} is not in CASES and no format detects it: list it with auto=False to check it")
    if case.auto:
        assert detect_format(case.path).name == case.format
        return
    # Meant to be read only when its format is named: auto must not claim it for that format.
    try:
        detected = detect_format(case.path).name
    except UnknownFormatError as exc:
        assert str(case.path) in str(exc)
    else:
        assert detected != case.format


# -- (b) well-formed posts --------------------------------------------------------------------

_UID_RE = re.compile(r"^[a-z][a-z0-9_-]*:\S.*$")


def _empty_strings(value: object, prefix: str = "") -> Iterator[str]:
    """Names of fields holding "" anywhere in a post (unknown must be None, never "")."""
    if isinstance(value, msgspec.Struct):
        for name, field_value in msgspec.structs.asdict(value).items():
            yield from _empty_strings(field_value, f"{prefix}{name}.")
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from _empty_strings(item, f"{prefix}[{index}].")
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "":
                yield f"{prefix}<empty key>"
            yield from _empty_strings(item, f"{prefix}{key}.")
    elif isinstance(value, str) and not value.strip():
        yield prefix.rstrip(".")


def post_problems(post: Post, case: Case) -> list[str]:
    """Every way a post breaks the contract (empty when it is well-formed)."""
    problems: list[str] = []
    fmt = get_format(case.format)
    if post.uid != f"{post.platform}:{post.native_id}" or not post.native_id:
        problems.append(f"uid {post.uid!r} is not platform:native_id")
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", post.platform):
        problems.append(f"platform {post.platform!r}")
    if fmt.framing != "csv" and fmt.name != "jsonl" and post.platform != fmt.platform:
        problems.append(f"platform {post.platform!r}, but the {fmt.name} format is for {fmt.platform!r}")
    if post.kind not in POST_KINDS:
        problems.append(f"kind {post.kind!r}")
    for name, value in (
        ("created_at", post.created_at),
        ("collected_at", post.collected_at),
        ("provenance.collected_at", post.provenance.collected_at),
    ):
        if value is not None and value.utcoffset() is None:
            problems.append(f"{name} is naive")
        elif value is not None and value.utcoffset().total_seconds() != 0:  # type: ignore[union-attr]
            problems.append(f"{name} is not UTC: {value}")
    if post.created_at is None and post.created_at_source is not None:
        problems.append("created_at_source without created_at")
    if post.created_at is not None and post.created_at_source is None:
        problems.append("created_at without created_at_source")
    if not post.provenance.source.startswith("file:"):
        problems.append(f"provenance.source {post.provenance.source!r}")
    if post.provenance.software != __version__:
        problems.append(f"provenance.software {post.provenance.software!r}")
    if post.raw is None:
        problems.append("no raw pointer")
    else:
        display = str(case.path)
        if post.raw.seq < 0:
            problems.append(f"raw.seq {post.raw.seq}")
        if not (post.raw.locator == display or post.raw.locator.startswith(display + ":")):
            problems.append(f"raw.locator {post.raw.locator!r} does not name the file")
    if post.original_text is None:
        if post.text is not None:
            problems.append("text without original_text")
    elif post.text != (normalise(post.original_text) or None):
        problems.append(f"text {post.text!r} is not normalise(original_text)")
    problems.extend(f"{field} is an empty string (unknown must be None)" for field in _empty_strings(post))
    numbers = {"author.followers": post.author.followers, **msgspec.structs.asdict(post.metrics)}
    problems.extend(
        f"{name} is negative: {value}" for name, value in numbers.items() if value is not None and value < 0
    )
    for name in ("reposted_uid", "quoted_uid", "replied_to_uid", "thread_root_uid"):
        link = getattr(post, name)
        if link is not None and (not _UID_RE.match(link) or link.split(":", 1)[0] != post.platform):
            problems.append(f"{name} {link!r} is not a uid on {post.platform}")
        if link is not None and link == post.uid and name != "thread_root_uid":
            problems.append(f"{name} points at the post itself")
    if post.reposted_uid is not None and post.kind != "repost":
        problems.append(f"reposted_uid set on a {post.kind}")
    if post.quoted_uid is not None and post.kind != "quote":
        problems.append(f"quoted_uid set on a {post.kind}")
    if post.lang is not None and post.lang.lower() in ("und", "unknown", "null", "none"):
        problems.append(f"lang {post.lang!r} should be None")
    if post.url is not None and not post.url.startswith(("https://", "http://")):
        problems.append(f"url {post.url!r}")
    geo = post.geo
    if (
        geo is not None
        and geo.lat is not None
        and (geo.lon is None or not (-90 <= geo.lat <= 90 and -180 <= geo.lon <= 180))
    ):
        problems.append(f"geo point {geo.lat}, {geo.lon}")
    return problems


@pytest.mark.parametrize("case", case_params(READABLE))
def test_posts_are_well_formed(case: Case) -> None:
    result = parsed(case)
    assert result.records > 0
    broken = {post.uid: problems for post in result.posts if (problems := post_problems(post, case))}
    assert broken == {}
    internal = [item.reason for item in result.quarantined if item.reason.startswith("internal error")]
    assert internal == [], "the importer produced posts the store refuses"
    for item in result.quarantined:
        assert item.reason.strip(), "a quarantined record needs a reason"
        assert item.locator == str(case.path) or item.locator.startswith(str(case.path) + ":")
        assert item.seq is not None and item.excerpt
    assert all(reason.strip() for reason in result.skipped)


def test_the_checks_catch_broken_posts() -> None:
    """The well-formedness check itself rejects what it should (so passing it means something)."""
    case = Case("x-v1", "x_v1/tweets.jsonl")
    good = parsed(case).posts[0]
    assert post_problems(good, case) == []
    bad = msgspec.structs.replace(
        good,
        uid="x:other",
        original_text="Hello",
        text="Hello",
        lang="und",
        author=msgspec.structs.replace(good.author, name="", followers=-1),
        reposted_uid="not a uid",
    )
    found = post_problems(bad, case)
    for fragment in ("not platform:native_id", "normalise", "author.name is an empty", "negative", "reposted_uid"):
        assert any(fragment in problem for problem in found), (fragment, found)
    assert any("lang" in problem for problem in found)


# -- nothing disappears -----------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params(READABLE))
def test_every_record_leaves_a_trace(case: Case) -> None:
    """Each raw record gives posts, quarantined problems or counted skips; none vanishes."""
    fmt = get_format(case.format)
    records = 0
    silent: list[str] = []
    for batch in split_file(fmt, InputFile(case.path), None):
        options = {**(case.option_dict or {}), **(batch.options or {})} or None
        for locator, payload in batch.records:
            body = FrameBody(
                source=f"file:{case.path}",
                format=fmt.name,
                received_at_us=RECEIVED_AT_US,
                records=[(locator, payload)],
                options=options,
            )
            one = parse_frame(body, records)
            records += 1
            if not (one.posts or one.quarantined or one.skipped):
                silent.append(locator)
    assert records == parsed(case).records > 0
    assert silent == []


# -- (c) idempotence --------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params(READABLE))
def test_importing_twice_adds_nothing(case: Case, workspace: Workspace, tmp_path: Path) -> None:
    expected = parsed(case)
    unique = first_seen(expected.posts)
    first = import_case(workspace, case)
    assert (first.status, first.format) == ("done", case.format)
    # The import report accounts for every record and post.
    assert first.records == expected.records
    assert (first.new, first.duplicates) == (len(unique), len(expected.posts) - len(unique))
    assert first.quarantined == len(expected.quarantined)
    assert first.skipped == sum(expected.skipped.values())
    assert stored_uids(workspace) == set(unique)
    before = counts(workspace)

    second = import_case(workspace, case)
    assert (second.status, second.records, second.new) == ("already imported", 0, 0)
    copy = tmp_path / ("copy-" + case.path.name)
    copy.write_bytes(case.path.read_bytes())
    assert import_case(workspace, case, copy).status == "already imported"  # same content, other name
    assert counts(workspace) == before

    forced = import_case(workspace, case, again=True)
    assert (forced.status, forced.records, forced.new) == ("done", expected.records, 0)
    assert forced.duplicates == len(expected.posts)
    assert stored_uids(workspace) == set(unique)


def test_importing_again_does_not_double_the_quarantine(workspace: Workspace) -> None:
    case = Case("x-v1", "x_v1/tweets.jsonl")
    import_case(workspace, case)
    posts, quarantined, _skipped = counts(workspace)
    assert quarantined > 0
    import_case(workspace, case, again=True)
    # --again promises "nothing is stored twice": the same broken line is one quarantine item.
    assert counts(workspace)[:2] == (posts, quarantined)


def test_importing_again_does_not_double_the_skip_counts(workspace: Workspace) -> None:
    case = Case("x-v1", "x_v1/tweets.jsonl")
    import_case(workspace, case)
    skipped = counts(workspace)[2]
    assert skipped > 0
    import_case(workspace, case, again=True)
    assert counts(workspace)[2] == skipped


# -- (d) round trip through the store ---------------------------------------------------------


@pytest.mark.parametrize("case", case_params(READABLE))
def test_store_gives_back_what_the_importer_made(case: Case, workspace: Workspace) -> None:
    import_case(workspace, case)
    store = workspace.store()
    expected = first_seen(parsed(case).posts)
    assert store.count_posts() == len(expected)
    for uid, parsed_post in expected.items():
        stored = store.get_post(uid)
        assert stored is not None, uid
        # The import differs from parse_path only in arrival time and the resolved source path,
        # and in near_copy_of, which the store sets (the importer cannot know earlier posts).
        made = msgspec.structs.replace(
            parsed_post,
            collected_at=stored.collected_at,
            provenance=msgspec.structs.replace(parsed_post.provenance, source=stored.provenance.source),
            near_copy_of=stored.near_copy_of,
        )
        assert msgspec.structs.asdict(stored) == msgspec.structs.asdict(made), uid
        assert stored == made
        assert stored.provenance.source == f"file:{case.path.resolve()}"
        assert stored.collected_at.utcoffset() is not None and stored.collected_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


# -- (e) reprocess ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params(READABLE))
def test_reprocess_rebuilds_the_same_store(case: Case, workspace: Workspace) -> None:
    report = import_case(workspace, case)
    store = workspace.store()
    before_uids = stored_uids(workspace)
    before_posts = {uid: store.get_post(uid) for uid in before_uids}
    before = counts(workspace)
    result = workspace.reprocess()
    assert stored_uids(workspace) == before_uids
    assert counts(workspace) == before
    assert (result.new, result.quarantined, result.skipped) == (report.new, report.quarantined, report.skipped)
    assert {uid: store.get_post(uid) for uid in before_uids} == before_posts


# -- (f) bad input is quarantined or refused, never dropped -----------------------------------


def damage(case: Case) -> str:
    """How to break a copy of the fixture: a bad line, a bad row, or a cut-off document."""
    fmt = get_format(case.format)
    if fmt.framing == "csv":
        return "row"
    if fmt.framing == "json" and case.path.name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return "line"
    return "cut"


@pytest.mark.parametrize("case", case_params([case for case in READABLE if damage(case) in ("line", "row")]))
def test_a_broken_record_is_quarantined_with_its_line(case: Case, workspace: Workspace, tmp_path: Path) -> None:
    data = case.path.read_bytes()
    if not data.endswith(b"\n"):
        data += b"\n"
    line = data.count(b"\n") + 1
    broken = b'{"broken": [1, 2\n' if damage(case) == "line" else b"broken-row-with-one-cell\n"
    copy = tmp_path / case.path.name
    copy.write_bytes(data + broken)
    expected = parsed(case)

    report = import_case(workspace, case, copy)

    assert report.status == "done"
    assert report.records == expected.records + 1
    assert report.quarantined == len(expected.quarantined) + 1
    assert stored_uids(workspace) == {post.uid for post in expected.posts}  # the rest still imported
    items = workspace.store().quarantine_items(limit=None)
    [item] = [item for item in items if item["locator"] == f"{copy}:{line}"]
    assert item["source"] == f"file:{copy.resolve()}"
    assert "broken" in item["excerpt"]  # the record as spooled (a CSV row is spooled as its cells)
    assert item["reason"]


@pytest.mark.parametrize("case", case_params([case for case in READABLE if damage(case) == "cut"]))
def test_a_corrupt_document_is_refused_naming_the_file(case: Case, workspace: Workspace, tmp_path: Path) -> None:
    data = case.path.read_bytes()
    copy = tmp_path / case.path.name
    copy.write_bytes(data[: len(data) // 2])
    expected = {post.uid for post in parsed(case).posts}

    with pytest.raises(InputError) as caught:
        import_case(workspace, case, copy)

    message = str(caught.value)
    assert str(copy) in message
    assert message.strip().endswith(".")  # a sentence for people, not a traceback
    stored = stored_uids(workspace)
    assert stored <= expected  # nothing invented from the broken half
    if "Nothing" in message:  # the error promises nothing was imported: hold it to that
        assert counts(workspace) == (0, 0, 0)
    else:
        assert workspace.store().count_posts() == len(stored)
    # A failed import is not remembered as done: the repaired file imports in full.
    copy.write_bytes(data)
    repaired = import_case(workspace, case, copy)
    assert repaired.status == "done"
    assert stored_uids(workspace) == expected
