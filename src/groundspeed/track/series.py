"""Timeline series: which counts a post adds to, and a batch's counts, computed where it is parsed.

Every stored post with a known time adds one to the minute it was posted in, in each of its
series:

=========================  ==========================================================
series                     counts posts...
=========================  ==========================================================
``all``                    all of them
``platform:x``             on one platform
``lang:fa``                in one language (as the platform gave it)
``place:Tehran``           with that place name (the platform's place)
``hashtag:iranelection``   carrying a hashtag (folded: ``#IranElection`` = ``#iranelection``)
``tracker:NAME``           in a tracker
``rule:NAME/RULE``         matched by one rule of a tracker (``rule:Iran/keyword:موسوی``)
=========================  ==========================================================

and, separately, one to the *canonical* count of the minute when it is canonical: not a repost
and not a near-copy of an earlier post. Hours and days are sums of minutes (the store adds them
up when asked).

The counts of a batch are made by the parse worker that parsed it (in parallel, in Python, with
the same folding the rules use) and added to the store by the writer in one statement. A post the
store already had, or one found to be a near-copy after parsing, is taken back out with
:func:`post_series` on its row, so the counts stay exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from ..model import Post
from ..text import normalise_tag
from .rules import TrackerMatch

# (series, minute) -> [posts, canonical]
Counts = dict[tuple[str, str], list[int]]
# reposted uid -> [reposts, first created_at, last created_at]
Amplified = dict[str, list[Any]]

_TAG_KEYS: dict[str, str] = {}


def tag_key(tag: str) -> str:
    """A hashtag as a series name: folded (letter variants, case), without the ``#``."""
    key = _TAG_KEYS.get(tag)
    if key is None:
        if len(_TAG_KEYS) > 50_000:
            _TAG_KEYS.clear()
        key = _TAG_KEYS[tag] = normalise_tag(tag)
    return key


def minute_of(created_at: str | None) -> str | None:
    """``2022-09-16T18:04`` from a stored time (UTC, ISO 8601), or None when unknown."""
    return created_at[:16] if created_at else None


def post_series(
    platform: str,
    lang: str | None,
    place_name: str | None,
    hashtags: Iterable[str] | None,
    matches: Iterable[tuple[str, Iterable[str]]],
) -> list[str]:
    """The series a post counts in. ``matches``: (tracker, rule ids) pairs."""
    keys = ["all", "platform:" + platform]
    if lang:
        keys.append("lang:" + lang)
    if place_name:
        keys.append("place:" + place_name)
    if hashtags:
        for tag in dict.fromkeys(tag_key(tag) for tag in hashtags):
            if tag:
                keys.append("hashtag:" + tag)
    for tracker, rules in matches:
        keys.append("tracker:" + tracker)
        keys.extend(f"rule:{tracker}/{rule}" for rule in rules)
    return keys


def add_post(counts: Counts, keys: Sequence[str], minute: str, canonical: bool, number: int = 1) -> None:
    """Add ``number`` posts (negative: take them back) to each series in ``keys``."""
    step = number if canonical else 0
    for key in keys:
        slot = counts.get((key, minute))
        if slot is None:
            counts[(key, minute)] = [number, step]
        else:
            slot[0] += number
            slot[1] += step


def tally_amplifier(tallies: Amplified, uid: str, created_at: str | None) -> None:
    """Count one more repost or copy of ``uid``, widening its first and last time."""
    tally = tallies.get(uid)
    if tally is None:
        tallies[uid] = [1, created_at, created_at]
        return
    tally[0] += 1
    if created_at is not None:
        if tally[1] is None or created_at < tally[1]:
            tally[1] = created_at
        if tally[2] is None or created_at > tally[2]:
            tally[2] = created_at


def batch_counts(
    posts: Sequence[Post], created: Sequence[str | None], matches: Sequence[Sequence[TrackerMatch]]
) -> tuple[Counts, Amplified]:
    """The timeline counts and repost tallies of a batch of (distinct, new) posts.

    ``created`` is each post's stored ``created_at`` text (the rows already have it formatted);
    ``matches`` each post's tracker matches. Reposts are counted as not canonical; near-copies are
    found later, in order, and taken back out by the store.
    """
    counts: Counts = {}
    amplified: Amplified = {}
    # Posts of the same minute often share everything that decides their series (platform,
    # language, place, hashtags, trackers): count those alike once, then expand each kind.
    alike: Counter[tuple[Any, ...]] = Counter()
    for post, created_at, found in zip(posts, created, matches, strict=True):
        if post.reposted_uid is not None:
            tally_amplifier(amplified, post.reposted_uid, created_at)
        if created_at is None:
            continue
        geo = post.geo
        alike[
            (
                created_at[:16],
                post.platform,
                post.lang,
                None if geo is None else geo.place_name,
                post.hashtags,
                tuple([(match.tracker, match.rules) for match in found]) if found else (),
                post.kind != "repost",
            )
        ] += 1
    for (minute, platform, lang, place_name, hashtags, found_rules, canonical), number in alike.items():
        keys = post_series(platform, lang, place_name, hashtags, found_rules)
        add_post(counts, keys, minute, canonical, number)
    return counts, amplified
