"""Near-copy grouping on real crisis streams: what it collapses, how often that is right, what it finds.

    .venv/bin/python benchmarks/nearcopy_precision.py [--data ../shared/data] [--sample 200]

Streams (development data, see ``../shared/data/README.md``; dataset text stays out of the repository):

* every event of ``crisislex_t26_streams/streams_slim.csv`` (English, Spanish, Portuguese, Italian,
  Tagalog...): tweets that are not retweets, each tweet id once, in ``created_at`` order;
* ``persian/mahsaamini_baraye_tweets`` (#مهسا_امینی "برای…" tweets; all start with the same word,
  a hard case for false matches), in time order, retweets left out;
* ``persian/sut_tw_telegram_2025_2026/all_cleaned.csv`` (Persian posts of a Telegram channel), in
  message order.

Each stream runs through its own ``NearCopyIndex`` (default parameters unless given) in batches of
1,000, as the tracker would feed it. The script prints, per stream, the posts and the share collapsed
under an earlier post (exact copies after stripping, and near copies), then:

**Precision, by hand.** A sample of distinct grouped pairs (a canonical post's stripped text, a copy's
stripped text), ``--sample`` in all, three quarters of them near copies (different stripped texts,
where mistakes can happen) and one quarter exact copies after stripping, is written to
``benchmarks/_work/nearcopy_sample.jsonl`` (ignored by git) with both texts, raw and stripped. The
sample is the pairs whose seeded hash of their id is lowest, so it stays put when a change of the
grouping adds or removes a few pairs, and earlier verdicts keep counting. Every pair was read in
full by a person (the first runs: the engineer who wrote the module, Persian, Spanish, Portuguese,
Indonesian and French included) and judged "same" (the same message: a copy, a copy with other
hashtags, mentions, links or a comment added, a headline from another outlet, a copy-paste campaign
with small edits such as the number a participant adds) or "different" (another message sharing
words: a template reused for other news or another product, an update with other facts). Verdicts
are kept in ``benchmarks/nearcopy_verdicts.json``, keyed by a hash of the two stripped texts, so no
dataset text enters the repository; verdicts of pairs no longer sampled stay there. Precision =
same / judged, for near and exact pairs, and overall weighted by how many grouped posts of each
kind there are. Pairs without a verdict are counted and listed by id: judge them in the sample file
and add them to the verdicts.

**Recall, on made-up copies.** 2,000 posts drawn from the streams (seeded) are posted again later
with one edit each (other hashtags, an added mention, a word added, a word dropped, a word changed,
a typo, or two edits at once), mixed into unrelated posts; the share found under their original is
printed per kind of edit. It is a proxy: real copies are not labelled.

``--threshold``, ``--num-perm``, ``--min-tokens``, ``--shingle`` try other parameters (judge new
pairs before trusting a precision figure for them).
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import json
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groundspeed.text import normalise
from groundspeed.track.nearcopy import NearCopyIndex, stripped_for_copy

HERE = Path(__file__).parent
WORK = HERE / "_work"
VERDICTS = HERE / "nearcopy_verdicts.json"
SAMPLE = WORK / "nearcopy_sample.jsonl"
BATCH = 1_000
EDITS = ["tags", "mention", "add word", "drop word", "change word", "typo", "two edits"]
FILLER_TAGS = ["#breaking", "#news", "#update", "#مهسا_امینی", "#prayfor", "#help", "#urgente"]
FILLER_WORDS = ["now", "please", "again", "ahora", "فوری", "لطفا", "update", "confirmed"]


@dataclass
class Stream:
    name: str
    texts: list[str]  # normalised, in order


def crisislex(path: Path) -> Iterator[Stream]:
    events: dict[str, dict[str, tuple[str, str]]] = collections.defaultdict(dict)
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["is_retweet"] == "1":
                continue
            events[row["event"]][row["tweet_id"]] = (row["created_at"], row["text"])
    for event, tweets in sorted(events.items()):
        ordered = sorted(tweets.items(), key=lambda item: (item[1][0], item[0]))
        yield Stream(event, [normalise(text) for _, (_, text) in ordered])


def baraye(path: Path) -> Stream:
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    rows = [row for row in rows if str(row.get("IsRetweet")).lower() != "true" and row.get("Text")]
    rows.sort(key=lambda row: (row["Timestamp"], row["ID"]))
    return Stream("persian_baraye_2022", [normalise(row["Text"]) for row in rows])


def telegram(path: Path) -> Stream:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("cleaned_text")]
    rows.sort(key=lambda row: int(row["message_id"]))
    return Stream("persian_sut_tw_telegram", [normalise(row["cleaned_text"]) for row in rows])


def streams(data: Path) -> list[Stream]:
    found = list(crisislex(data / "crisislex_t26_streams" / "streams_slim.csv"))
    found.append(baraye(data / "persian" / "mahsaamini_baraye_tweets" / "baraye_tweets_merged.jsonl"))
    found.append(telegram(data / "persian" / "sut_tw_telegram_2025_2026" / "all_cleaned.csv"))
    return found


def group(texts: Sequence[str], options: dict[str, float]) -> list[int | None]:
    """Each post's canonical post as an index into ``texts``."""
    index = NearCopyIndex(**options)  # type: ignore[arg-type]
    uids = [str(i) for i in range(len(texts))]
    canonical: list[int | None] = []
    for offset in range(0, len(texts), BATCH):
        result = index.assign(uids[offset : offset + BATCH], texts[offset : offset + BATCH])
        canonical.extend(None if uid is None else int(uid) for uid in result)
    return canonical


def shingles(text: str, size: int) -> set[str]:
    return {text[i : i + size] for i in range(max(1, len(text) - size + 1))}


def jaccard(left: str, right: str, size: int) -> float:
    a, b = shingles(left, size), shingles(right, size)
    return len(a & b) / max(1, len(a | b))


def pair_id(left: str, right: str) -> str:
    """Stable, and reveals nothing of the texts: a hash of the two stripped texts."""
    return hashlib.sha256(f"{left}\x00{right}".encode()).hexdigest()[:16]


def bottom(pairs: list[dict[str, object]], count: int, seed: int) -> list[dict[str, object]]:
    """A seeded sample of distinct pairs that stays put when the grouping changes a little: the
    pairs whose ids hash lowest, so a pair kept by a new run keeps its place (and its verdict)."""
    distinct = {str(pair["id"]): pair for pair in pairs}
    ranked = sorted(distinct, key=lambda ident: hashlib.sha256(f"{seed}:{ident}".encode()).digest())
    return [distinct[ident] for ident in ranked[:count]]


def edit(text: str, kind: str, rng: random.Random) -> str:
    words = text.split()
    if kind == "two edits":
        return edit(edit(text, rng.choice(EDITS[2:6]), rng), rng.choice(EDITS[:2]), rng)
    if kind == "tags":
        kept = [word for word in words if not word.startswith("#")]
        return " ".join(kept + rng.sample(FILLER_TAGS, 2))
    if kind == "mention":
        return f"@user{rng.randrange(1000)} {text}"
    position = rng.randrange(len(words))
    if kind == "add word":
        words.insert(position, rng.choice(FILLER_WORDS))
    elif kind == "drop word":
        del words[position]
    elif kind == "change word":
        words[position] = rng.choice(FILLER_WORDS)
    else:  # typo: two neighbouring letters swapped in a word of three letters or more
        long_words = [i for i, word in enumerate(words) if len(word) >= 3] or [position]
        i = rng.choice(long_words)
        word = words[i]
        j = rng.randrange(max(1, len(word) - 1))
        words[i] = word[:j] + word[j + 1 : j + 2] + word[j : j + 1] + word[j + 2 :]
    return " ".join(words)


def recall(all_streams: list[Stream], options: dict[str, float], seed: int) -> dict[str, tuple[int, int]]:
    """Originals, then unrelated posts with edited copies among them; per edit, (found, tried)."""
    rng = random.Random(seed)
    pool = [text for stream in all_streams for text in stream.texts]
    stripped = [stripped_for_copy(text) for text in pool]
    # Originals long enough to be compared by MinHash, distinct after stripping.
    candidates = list({s: i for i, s in enumerate(stripped) if len(s.split()) >= 8}.values())
    chosen = rng.sample(candidates, 2_000)
    rest = [i for i in range(len(pool)) if i not in set(chosen)]
    filler = [pool[i] for i in rng.sample(rest, 10_000)]
    kinds = [EDITS[i % len(EDITS)] for i in range(len(chosen))]
    copies = [edit(pool[i], kind, rng) for i, kind in zip(chosen, kinds, strict=True)]
    texts = [pool[i] for i in chosen] + filler + copies
    order = list(range(len(chosen), len(chosen) + len(filler) + len(copies)))
    rng.shuffle(order)  # copies arrive among unrelated posts, after all originals
    sequence = list(range(len(chosen))) + order
    canonical = group([texts[i] for i in sequence], options)
    position = {original: place for place, original in enumerate(sequence)}
    found: dict[str, list[int]] = {kind: [0, 0] for kind in EDITS}
    for k, kind in enumerate(kinds):
        copy_at = position[len(chosen) + len(filler) + k]
        found[kind][1] += 1
        # Under the original, or under the post the original itself was grouped under.
        found[kind][0] += canonical[copy_at] in (k, canonical[k])
    return {kind: (hit, total) for kind, (hit, total) in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--num-perm", type=int)
    parser.add_argument("--min-tokens", type=int)
    parser.add_argument("--shingle", type=int)
    parser.add_argument("--no-recall", action="store_true")
    args = parser.parse_args()
    options = {
        name: value
        for name, value in [
            ("threshold", args.threshold),
            ("num_perm", args.num_perm),
            ("min_tokens", args.min_tokens),
            ("shingle", args.shingle),
        ]
        if value is not None
    }
    size = options.get("shingle", NearCopyIndex().shingle)
    all_streams = streams(args.data)
    pairs: list[dict[str, object]] = []
    print(f"{'stream':32} {'posts':>7} {'collapsed':>9} {'exact':>7} {'near':>7}")
    totals = np.zeros(3, dtype=np.int64)
    for stream in all_streams:
        canonical = group(stream.texts, options)
        stripped = [stripped_for_copy(text) for text in stream.texts]
        exact = near = 0
        for i, target in enumerate(canonical):
            if target is None:
                continue
            same_text = stripped[i] == stripped[target]
            exact += same_text
            near += not same_text
            pairs.append(
                {
                    "id": pair_id(stripped[target], stripped[i]),
                    "stream": stream.name,
                    "kind": "exact" if same_text else "near",
                    "jaccard": round(jaccard(stripped[target], stripped[i], int(size)), 3),
                    "canonical": stripped[target],
                    "copy": stripped[i],
                    "canonical_text": stream.texts[target],
                    "copy_text": stream.texts[i],
                }
            )
        count = len(stream.texts)
        totals += (count, exact, near)
        print(f"{stream.name:32} {count:7,} {(exact + near) / count:9.1%} {exact / count:7.1%} {near / count:7.1%}")
    count, exact, near = totals.tolist()
    print(f"{'all':32} {count:7,} {(exact + near) / count:9.1%} {exact / count:7.1%} {near / count:7.1%}")
    by_kind = {kind: [pair for pair in pairs if pair["kind"] == kind] for kind in ("near", "exact")}
    want = {"near": args.sample * 3 // 4, "exact": args.sample - args.sample * 3 // 4}
    sample = [pair for kind, wanted in want.items() for pair in bottom(by_kind[kind], wanted, args.seed)]
    WORK.mkdir(exist_ok=True)
    with open(SAMPLE, "w", encoding="utf-8") as handle:
        for pair in sample:
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    verdicts: dict[str, str] = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    print(f"\nsample of {len(sample)} grouped pairs written to {SAMPLE}")
    weighted = 0.0
    for kind in ("near", "exact"):
        judged = [verdicts[pair["id"]] for pair in sample if pair["kind"] == kind and pair["id"] in verdicts]  # type: ignore[index]
        missing = [pair["id"] for pair in sample if pair["kind"] == kind and pair["id"] not in verdicts]
        same = judged.count("same")
        precision = same / len(judged) if judged else float("nan")
        share = len(by_kind[kind]) / max(1, len(pairs))
        weighted += precision * share
        print(
            f"{kind:>5} pairs: {len(by_kind[kind]):,} grouped ({share:.0%}); judged {len(judged)}, same {same}: "
            f"precision {precision:.3f}"
            + (f"; {len(missing)} without a verdict: {', '.join(missing[:5])}" if missing else "")  # type: ignore[arg-type]
        )
    print(f"precision, weighted by kind: {weighted:.3f}")
    if not args.no_recall:
        print("\nrecall on made-up copies of real posts (found under their original / tried):")
        for kind, (hit, total) in recall(all_streams, options, args.seed).items():
            print(f"  {kind:12} {hit / total:6.1%}  ({hit}/{total})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
