"""Why a peak happened: what its posts say that the hours before did not.

For a burst, compare the posts inside it with the posts of a baseline window before it (the day
before, by default) and report:

* **terms** and **hashtags** that are distinctive: the weighted log-odds ratio with an informative
  Dirichlet prior (Monroe, Colaresi and Quinn 2008, "Fightin' Words"), which ranks words by how much
  more often they appear in the burst than before, while not letting a word seen twice jump to the
  top. Its z-score is reported as ``score``;
* the **links** and **places** most posted in the burst;
* **representative posts**: canonical posts (neither reposts nor near-copies) of the burst, the
  most amplified first (reposts and near-copies of them), each with a link to the original.

Texts are the normalised ones (case folded, Persian/Arabic letters folded), so ``#Tehran`` and
``#tehran`` are one hashtag; the readable original text is shown for representative posts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..model import Post
from ..text import normalise_tag

_WORD_RE = re.compile(r"[^\W\d_][\w\u200c]*", re.UNICODE)
# Words that say nothing about what happened, in the languages of our crises (short lists written
# for this: the prior already damps common words; these are the ones it cannot).
STOPWORDS = frozenset(
    """
    a an and are as at be been but by for from has have he her his i if in into is it its me my no not of on or
    our she so that the their them there they this to too us was we were what when where which who will with you
    your rt via amp just now all out up about more than can new get like one
    و در به از که این را با است برای آن یک تا هم شد می ها بر ما من تو او هر شده کرد اند بود های ای کند
    چه اما یا نه ولی باید دارد همه خود دیگر هیچ پس اگر چون شود کنند کنید بودند هست نیست
    في من على إلى عن مع هذا هذه التي الذي ما لا أن إن كان قد هو هي ثم أو كل بعد عند
    """.split()
)


def distinctive(
    inside: Counter[str], before: Counter[str], *, top: int = 10, min_count: int = 3, prior_scale: float = 0.1
) -> list[dict[str, Any]]:
    """Items over-represented in ``inside`` compared with ``before`` (weighted log-odds, z-scores)."""
    inside_total = sum(inside.values())
    before_total = sum(before.values())
    if not inside_total:
        return []
    # The informative prior: the two windows pooled, scaled to a small number of pseudo-counts.
    pooled = inside + before
    pooled_total = inside_total + before_total
    prior_total = prior_scale * pooled_total
    scored: list[tuple[float, str, int]] = []
    for item, count in inside.items():
        if count < min_count:
            continue
        prior = prior_total * pooled[item] / pooled_total
        other = before.get(item, 0)
        log_odds_inside = math.log((count + prior) / (inside_total + prior_total - count - prior))
        log_odds_before = math.log((other + prior) / (before_total + prior_total - other - prior))
        variance = 1 / (count + prior) + 1 / (other + prior)
        z = (log_odds_inside - log_odds_before) / math.sqrt(variance)
        if z > 0:
            scored.append((z, item, count))
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    return [
        {"item": item, "score": round(z, 2), "count": count, "before": before.get(item, 0)}
        for z, item, count in scored[:top]
    ]


def words(text: str | None) -> list[str]:
    """Content words of a normalised text: no mentions, numbers or stopwords, at least 2 letters."""
    if not text:
        return []
    return [
        word
        for word in _WORD_RE.findall(text)
        if len(word) > 1 and word not in STOPWORDS and not word.startswith("http")
    ]


def key_terms(texts: Iterable[str], *, top: int = 8) -> list[str]:
    """The words most posts of a group use (each post counts a word once): a story's key terms."""
    counts: Counter[str] = Counter()
    for text in texts:
        cleaned = " ".join(token for token in text.split() if not token.startswith("@"))
        counts.update({word.lstrip("#") for word in words(cleaned)})
    return [word for word, _count in counts.most_common(top)]


def _post_words(post: Post) -> set[str]:
    text = post.text or ""
    # Mentions are who was addressed, not what happened; hashtags are reported on their own.
    cleaned = " ".join(token for token in text.split() if not token.startswith(("@", "#")))
    return set(words(cleaned))


def _counter(posts: Iterable[Post], items: Callable[[Post], Iterable[str]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for post in posts:
        counts.update(set(items(post)))  # a post counts once per item: one spammer is not a trend
    return counts


def _hashtags(post: Post) -> set[str]:
    return {normalise_tag(tag) for tag in post.hashtags or () if tag}


def _place(post: Post) -> list[str]:
    if post.geo is not None and post.geo.place_name:
        return [post.geo.place_name]
    if post.author.location:
        return [post.author.location]
    return []


def explain(
    inside: Sequence[Post],
    before: Sequence[Post],
    *,
    amplification: dict[str, tuple[int, int]] | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """The explanation of a burst (see the module docstring) as a JSON-ready dict."""
    amplification = amplification or {}
    links = _counter(inside, lambda post: post.urls or ())
    places = _counter(inside, _place)
    canonical = [post for post in inside if post.kind != "repost" and post.near_copy_of is None]

    def reach(post: Post) -> int:
        reposts, copies = amplification.get(post.uid, (0, 0))
        return reposts + copies

    representative = sorted(canonical, key=lambda post: (-reach(post), post.created_at or post.collected_at))[:5]
    return {
        "posts": len(inside),
        "baseline_posts": len(before),
        "terms": distinctive(_counter(inside, _post_words), _counter(before, _post_words), top=top),
        "hashtags": distinctive(_counter(inside, _hashtags), _counter(before, _hashtags), top=top, min_count=2),
        "links": [{"item": url, "count": count} for url, count in links.most_common(5)],
        "places": [{"item": place, "count": count} for place, count in places.most_common(5)],
        "posts_to_read": [
            {
                "uid": post.uid,
                "url": post.url,
                "author": post.author.handle,
                "created_at": post.created_at.isoformat() if post.created_at else None,
                "text": (post.original_text or post.text or "")[:400],
                "reposts": amplification.get(post.uid, (0, 0))[0],
                "near_copies": amplification.get(post.uid, (0, 0))[1],
            }
            for post in representative
        ],
    }
