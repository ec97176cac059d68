"""Language identification: accuracy per language on held-out events/sources, unknown share, posts/s.

    .venv/bin/python benchmarks/language.py [--data ../shared/data] [--repeat 3]

Held-out data is what ``scripts/train_language.py`` never trains on (``TEST_EVENTS``): whole events or
sources, so the figures say how the identifier does on posts from crises it has not seen. Each post is
scored twice, as raw text and as ``groundspeed.text.normalise`` output (how the pipeline stores it).

* ``acc``: share of posts given the right language; ``unk``: share returned as unknown (None);
  ``wrong``: the rest. ``acc|known``: accuracy among the posts given a language.
* ``short``: accuracy on posts with at most 40 letters after cleaning.
* For es/pt/it/fr/tl/id the gold label *is* Twitter's ``lang`` tag (the only label the data has), so those
  rows measure agreement with the platform. The CrisisLexT26 stream rows show what happens when the tag is
  passed in as ``platform_lang`` and what the model says on posts Twitter tagged ``und``.
* fa-Latn: Finglish made by transliterating the held-out #MahsaAmini tweets (the training transliterator,
  another seed), and separately the hand-written Finglish posts below (written for this benchmark).

Speed: ``detect_many`` over all held-out posts (raw text), one core, best of ``--repeat`` rounds.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from train_language import (
    FINGLISH,
    SEED,
    Example,
    _labelled,
    finglish_dictionary,
    persian,
    romanise,
)

from groundspeed.text import normalise
from groundspeed.understand.language import LanguageGuess, clean, detect_many

HAND_WRITTEN_FINGLISH = [
    "salam, alan too khiaboone azadi hastam, kheili sholooghe",
    "emshab sedaye tir az samte daneshgah miad, mardom farar mikonan",
    "internet ghat shode, age payam mirese lotfan pakhsh konid",
    "bacheha movazeb bashid, gard ha too meydoon vaysadan",
    "zan zendegi azadi! hame bian biroon",
    "khabar dari az madaret? telefonesh khamooshe",
    "dirooz 3 nafar ro too sanandaj bazdasht kardan",
    "man khodam didam ke ba gaz ashkavar zadan",
    "kasi midoone bimarestan koja zakhmi ha ro mibaran?",
    "chera hichki chizi nemige? inja vazeeyat kheili bade",
    "merci ke neveshti, ma halemoon khoobe, negaran nabash",
    "bargh raft, ab ham nadarim az sobh",
    "marg bar dictator, sedaye shoar az poshte bam ha miad",
    "ye video az tajamo dar mashhad daram vali upload nemishe",
    "tamoome shahr nirooye entezami rikhte, hich jaa amn nist",
    "hamsaye ha migan ke bache ha ro gereftan",
    "kheili tarsidam, hanooz mashin haye polis injan",
    "dige tahamol nemikonim, farda saat 5 hame biroon",
    "begin be khanevadash ke halesh khoobe",
    "vaghean nemidoonam chi beguyam, khoda komak kone",
]


def _rows(guesses: list[LanguageGuess], examples: list[Example]) -> dict[str, list[tuple[str, str | None, int]]]:
    rows: dict[str, list[tuple[str, str | None, int]]] = collections.defaultdict(list)
    for guess, example in zip(guesses, examples, strict=True):
        letters = len(clean(example.text).replace(" ", ""))
        rows[example.lang].append((example.lang, guess.lang, letters))
    return rows


def _table(title: str, guesses: list[LanguageGuess], examples: list[Example]) -> None:
    print(f"\n{title}")
    print(
        f"{'lang':8} {'posts':>7} {'acc':>6} {'unk':>6} {'wrong':>6} {'acc|known':>9} {'short':>6} {'n_short':>7}  top errors"
    )
    for lang, rows in sorted(_rows(guesses, examples).items(), key=lambda kv: -len(kv[1])):
        n = len(rows)
        right = sum(gold == pred for gold, pred, _ in rows)
        unknown = sum(pred is None for _, pred, _ in rows)
        short = [(g, p) for g, p, letters in rows if letters <= 40]
        short_acc = sum(g == p for g, p in short) / len(short) if short else float("nan")
        errors = collections.Counter(p for g, p, _ in rows if p is not None and p != g).most_common(3)
        known = n - unknown
        print(
            f"{lang:8} {n:7d} {right / n:6.3f} {unknown / n:6.3f} {(n - right - unknown) / n:6.3f} "
            f"{(right / known if known else float('nan')):9.3f} {short_acc:6.3f} {len(short):7d}  {errors}"
        )
    total = len(examples)
    right = sum(g.lang == e.lang for g, e in zip(guesses, examples, strict=True))
    unknown = sum(g.lang is None for g in guesses)
    print(f"{'all':8} {total:7d} {right / total:6.3f} {unknown / total:6.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    labelled = [e for e in _labelled(args.data) if e.held_out]
    persian_test = [e for e in persian(args.data) if e.held_out]
    dictionary = finglish_dictionary(args.data)
    rng = random.Random(SEED + 1)
    finglish = [Example(FINGLISH, "finglish_test", e.event, romanise(e.text, dictionary, rng)) for e in persian_test]
    hand = [Example(FINGLISH, "hand_written", "hand", text) for text in HAND_WRITTEN_FINGLISH]
    examples = [e for e in labelled + persian_test + finglish if clean(e.text)]
    sources = collections.Counter((e.lang, e.source) for e in examples)
    print("held-out posts (with at least one letter):", dict(sorted(sources.items())), file=sys.stderr)

    texts = [e.text for e in examples]
    _table("raw text, no platform tag", detect_many(texts), examples)
    _table(
        "normalised text (groundspeed.text.normalise), no platform tag", detect_many(map(normalise, texts)), examples
    )
    _table("hand-written Finglish", detect_many(e.text for e in hand), hand)

    streams = [e for e in examples if e.source == "t26_streams"]
    with_tag = detect_many([e.text for e in streams], [e.platform_lang for e in streams])
    kept = collections.Counter(g.source for g in with_tag)
    overridden = sum(g.lang != e.lang for g, e in zip(with_tag, streams, strict=True))
    print(f"\nCrisisLexT26 streams, Twitter tag passed in: sources {dict(kept)}; answer differs from tag: {overridden}")
    und = []
    for row in _csv_streams(args.data):
        if row[0] == "und":
            und.append(row[1])
    und_guesses = collections.Counter(g.lang for g in detect_many(und))
    print(f"posts Twitter tagged 'und' ({len(und)}), model says: {dict(und_guesses.most_common(8))}")

    best = float("inf")
    for _ in range(args.repeat):
        started = time.process_time()
        detect_many(texts)
        best = min(best, time.process_time() - started)
    print(
        f"\nspeed: {len(texts) / best:,.0f} posts/s (raw text, {len(texts):,d} posts, CPU time, best of {args.repeat})"
    )
    return 0


def _csv_streams(data: Path) -> list[tuple[str, str]]:
    import csv

    with (data / "crisislex_t26_streams/streams_slim.csv").open(encoding="utf-8", newline="") as handle:
        return [(row["lang"], row["text"]) for row in csv.DictReader(handle)]


if __name__ == "__main__":
    raise SystemExit(main())
