"""Tracker matching speed: 1,000 rules in 10 trackers against 200,000 synthetic posts.

    .venv/bin/python benchmarks/rules.py [--posts 200000] [--rules 1000] [--trackers 10] [--repeat 3]

Posts come from ``groundspeed.synthetic`` (Persian, Finglish, Arabic and English crisis posts,
40% retweets, a few geotagged), mapped to ``Post`` objects with normalised text before timing.
Rules are hashtags, keywords (some with Finglish alternatives and '*'), and phrases in fa/ar/en:
a tenth are words the posts really use (city names, the synthetic hashtags), so many posts match
and the word-boundary checks are exercised; the rest are invented words of the same scripts,
which the automaton has to rule out. Each tracker also has two accounts, a language filter, and
one tracker a place and a bbox.

Two rule sets: *realistic* (tracker 0 follows the crisis the posts are about, trackers 1-2
overlap it a little, the rest follow other crises) and *all-overlap* (every tracker uses the
posts' words: a stress case where most posts land in several trackers with many rule ids).

Prints µs/post (CPU time of this process: the shared machine is noisy) for ``Matcher.match_many``
(Post objects), ``Matcher.match_fields_many`` (the raw pieces, as a backfill from database rows
would pass them) and ``Matcher.match`` one post at a time, the share of posts matched, and a
reference measured in the same rounds: a matcher with one account rule, i.e. the per-post overhead
without text rules. The ratio to it is steadier than the times on a busy machine.
Target: well under 5 µs/post at 1,000 rules.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime

from groundspeed.model import Author, Geo, Post, Provenance
from groundspeed.synthetic import CITIES, TAGS, generate_tweets
from groundspeed.text import normalise
from groundspeed.track.rules import Matcher, PostFields, RuleSet, Tracker, post_fields

_FA_LETTERS = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
_AR_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوية"
_EN_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_REAL_WORDS = [
    *(fa for fa, _en, _lat, _lon in CITIES),
    *(en for _fa, en, _lat, _lon in CITIES),
    "اینترنت",
    "تجمع",
    "بازداشت",
    "gunfire",
    "shutdown",
    "الإنترنت",
    "mardom",
]


def _invented(rng: random.Random, letters: str) -> str:
    return "".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))


def _term(rng: random.Random, index: int, real_every: int) -> str:
    """A real word for one rule in ``real_every``, else an invented one in a random script."""
    if real_every and index % real_every == 0:
        return rng.choice(_REAL_WORDS)
    letters = rng.choice([_FA_LETTERS, _AR_LETTERS, _EN_LETTERS])
    word = _invented(rng, letters)
    if index % 7 == 0:
        word += "*"  # a prefix form
    if index % 5 == 0:
        word = f"{word}|{_invented(rng, _EN_LETTERS)}"  # a Finglish alternative
    return word


def _real_every(number: int, overlap: bool) -> int:
    """How often a tracker's rules use words the posts contain (0: never).

    Realistic: tracker 0 follows the crisis the posts are about, trackers 1 and 2 overlap it a
    little, the others follow other crises. ``overlap``: every tracker is about this crisis."""
    if overlap:
        return 10
    return {0: 10, 1: 40, 2: 40}.get(number, 0)


def build_trackers(rules: int, trackers: int, *, overlap: bool = False, seed: int = 1) -> list[Tracker]:
    rng = random.Random(seed)
    real_tags = [tag for tags in TAGS.values() for tag in tags]
    per_tracker = rules // trackers
    result: list[Tracker] = []
    for number in range(trackers):
        every = _real_every(number, overlap)
        hashtags = [
            rng.choice(real_tags)
            if every and i % every == 0
            else _invented(rng, rng.choice([_FA_LETTERS, _EN_LETTERS]))
            for i in range(per_tracker * 3 // 10)
        ]
        keywords = [_term(rng, i, every) for i in range(per_tracker * 5 // 10)]
        phrases = [
            f"{rng.choice(_REAL_WORDS) if every and i % every == 0 else _invented(rng, _FA_LETTERS)} "
            f"{_invented(rng, _FA_LETTERS)}"
            for i in range(per_tracker * 2 // 10)
        ]
        include = RuleSet(
            hashtags=tuple(hashtags),
            keywords=tuple(keywords),
            phrases=tuple(phrases),
            accounts=(f"sara_{number}", f"@witness_{number + 10}"),
            places=("Tehran",) if number == 0 else (),
            bboxes=((44.0, 25.0, 63.3, 39.8),) if number == 1 else (),
            languages=("fa", "en") if number % 2 else (),
        )
        result.append(Tracker(f"tracker {number}", include=include, exclude=RuleSet(keywords=(_term(rng, 3, 0),))))
    return result


def build_posts(count: int) -> list[Post]:
    provenance = Provenance(source="benchmark", software="bench")
    now = datetime(2022, 9, 16, tzinfo=UTC)
    posts: list[Post] = []
    for tweet in generate_tweets(count):
        user = tweet["user"]
        point = tweet.get("coordinates")
        geo = None
        if point:
            lon, lat = point["coordinates"]
            geo = Geo(precision="point", source="coordinates", lat=lat, lon=lon)
        posts.append(
            Post(
                uid=f"x:{tweet['id_str']}",
                platform="x",
                native_id=tweet["id_str"],
                kind="original",
                collected_at=now,
                provenance=provenance,
                text=normalise(tweet["text"]),
                lang=None if tweet["lang"] == "und" else tweet["lang"],
                author=Author(id=user["id_str"], handle=user["screen_name"], location=user["location"] or None),
                hashtags=tuple(tag["text"] for tag in tweet["entities"]["hashtags"]),
                geo=geo,
            )
        )
    return posts


def time_many(matcher: Matcher, posts: list[Post]) -> float:
    start = time.process_time()
    matcher.match_many(posts)
    return time.process_time() - start


def time_fields(matcher: Matcher, rows: list[PostFields]) -> float:
    start = time.process_time()
    matcher.match_fields_many(rows)
    return time.process_time() - start


def time_one_by_one(matcher: Matcher, posts: list[Post]) -> float:
    match = matcher.match
    start = time.process_time()
    for post in posts:
        match(post)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--trackers", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    posts = build_posts(args.posts)
    rows = [post_fields(post) for post in posts]
    # The inputs stay alive for the whole run; in an import they stream past in batches. Freezing
    # them keeps the garbage collector from walking 200,000 posts over and over while timing.
    gc.collect()
    gc.freeze()
    print(f"python {platform.python_version()} on {platform.machine()}, {len(posts):,} posts", file=sys.stderr)
    reference = Matcher([Tracker("reference", include=RuleSet(accounts=("nobody",)))])
    per_post = 1e6 / len(posts)
    for label, overlap in (("realistic", False), ("all-overlap", True)):
        trackers = build_trackers(args.rules, args.trackers, overlap=overlap)
        start = time.process_time()
        matcher = Matcher(trackers)
        compile_ms = (time.process_time() - start) * 1000
        results = matcher.match_many(posts)
        matched = sum(1 for result in results if result)
        rule_hits = sum(len(match.rules) for result in results for match in result)
        memberships = sum(len(result) for result in results)
        many: list[float] = []
        fields: list[float] = []
        single: list[float] = []
        base: list[float] = []
        for _ in range(args.repeat):  # interleaved, so that a busy moment slows every figure alike
            many.append(time_many(matcher, posts))
            fields.append(time_fields(matcher, rows))
            single.append(time_one_by_one(matcher, posts))
            base.append(time_many(reference, posts))
        rules = sum(len(t.include.hashtags) + len(t.include.keywords) + len(t.include.phrases) for t in trackers)
        print(
            f"\n[{label}] {rules:,} text rules in {len(trackers)} trackers, compiled in {compile_ms:.0f} ms; "
            f"{matched / len(posts):.1%} of posts matched, {memberships / len(posts):.2f} trackers and "
            f"{rule_hits / len(posts):.2f} rule ids per post"
        )
        reference_median = statistics.median(base)
        for name, times in (
            ("match_many", many),
            ("match_fields_many", fields),
            ("match, 1 by 1", single),
            ("reference", base),
        ):
            ratio = statistics.median(times) / reference_median
            print(
                f"{name:<18} {statistics.median(times) * per_post:5.2f} µs/post  {ratio:4.1f}x reference  "
                f"(rounds: {_rounds(times, per_post)})"
            )


def _rounds(times: list[float], per_post: float) -> str:
    return ", ".join(f"{t * per_post:.2f}" for t in times)


if __name__ == "__main__":
    main()
