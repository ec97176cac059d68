"""How well place mentions are found and placed (``groundspeed eval geo``).

Two layouts, the files of ``shared/data`` (held-out copies have the same layout):

* **IDRISI** (a folder): ``mentions_gold.csv`` with ``lang`` (EN/AR), ``event``, ``split``,
  ``tweet_id``, ``text`` and ``location_mentions`` (JSON spans: ``start_offset``/``end_offset``
  or ``startIdx``/``endIdx``); and ``geocoded_mentions.csv`` with ``tweet_id``, ``start``,
  ``end``, ``lat``, ``lon`` of gold mentions resolved on OpenStreetMap.
* **ParsTwiNER** (a file): CoNLL, one ``token<TAB>tag`` per line, a blank line between tweets;
  ``B-LOC``/``I-LOC`` mark place mentions. The text is the tokens joined by single spaces.

Only the shipped gazetteer is used: nothing is fitted on the data evaluated.

Figures:

``mention_f1`` / ``mention_precision`` / ``mention_recall``
    a predicted mention is right when its span equals a gold span exactly (micro-averaged).
    IDRISI's Arabic gold lists a name written twice in a tweet twice at its first offset; such
    repeats are moved to the name's next occurrences (:func:`repair_repeated_spans`).
``mention_f1_overlap``
    the same when any overlap counts (spans that differ by a word such as "city").
``acc_161km``
    over the gold geocoded mentions of the tweets evaluated (a tweet's split is its split in
    ``mentions_gold.csv``), the share for which a predicted mention overlapping the gold span
    has coordinates within 161 km (100 miles) of the gold point; unfound or unresolved
    mentions count as misses.
``median_error_km``
    median distance over the gold geocoded mentions that were found and resolved.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..track.places import distance_km
from ..understand.geo import Geocoder, PlaceMention

ACCURACY_KM = 161.0
BATCH = 1_000
_GOLD_COLUMNS = ("lang", "event", "tweet_id", "text", "location_mentions")
_GEOCODED_COLUMNS = ("tweet_id", "start", "end", "lat", "lon")

Span = tuple[int, int]


@dataclass(slots=True)
class Counts:
    """True positives, predictions and gold mentions, exact and overlapping."""

    tp: int = 0
    predicted: int = 0
    gold: int = 0
    tp_overlap: int = 0
    gold_overlap: int = 0
    geocoded: int = 0
    within: int = 0
    errors: list[float] = field(default_factory=list)

    def add(self, predicted: set[Span], gold: set[Span]) -> None:
        self.tp += len(predicted & gold)
        self.predicted += len(predicted)
        self.gold += len(gold)
        self.tp_overlap += sum(1 for p in predicted if any(_overlap(p, g) for g in gold))
        self.gold_overlap += sum(1 for g in gold if any(_overlap(p, g) for p in predicted))

    def report(self) -> dict[str, Any]:
        precision = self.tp / self.predicted if self.predicted else 0.0
        recall = self.tp / self.gold if self.gold else 0.0
        p_overlap = self.tp_overlap / self.predicted if self.predicted else 0.0
        r_overlap = self.gold_overlap / self.gold if self.gold else 0.0
        out: dict[str, Any] = {
            "mention_f1": _round(_f1(precision, recall)),
            "mention_precision": _round(precision),
            "mention_recall": _round(recall),
            "mention_f1_overlap": _round(_f1(p_overlap, r_overlap)),
            "gold_mentions": self.gold,
            "predicted_mentions": self.predicted,
        }
        if self.geocoded:
            out["acc_161km"] = _round(self.within / self.geocoded)
            out["median_error_km"] = _round(statistics.median(self.errors)) if self.errors else None
            out["geocoded_mentions"] = self.geocoded
            out["resolved"] = len(self.errors)
        return out


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _round(value: float) -> float:
    return round(value, 4)


def _overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


# -- IDRISI -------------------------------------------------------------------------------------------


def _read_csv(path: Path, columns: Iterable[str]) -> list[dict[str, str]]:
    if not path.is_file():
        msg = f"{path}: file not found (an IDRISI folder holds mentions_gold.csv and geocoded_mentions.csv)"
        raise InputError(msg)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in columns if column not in (reader.fieldnames or ())]
        if missing:
            msg = f"{path}: missing column(s) {', '.join(missing)}"
            raise InputError(msg)
        return list(reader)


def _gold_spans(path: Path, row_number: int, text: str, raw: str) -> set[Span]:
    try:
        mentions = json.loads(raw or "[]")
        spans = []
        for mention in mentions:
            start = mention.get("start_offset", mention.get("startIdx"))
            end = mention.get("end_offset", mention.get("endIdx"))
            spans.append((int(start), int(end)))
    except (ValueError, TypeError, AttributeError) as error:
        msg = f"{path}: row {row_number}: location_mentions is not a JSON list of spans ({error})"
        raise InputError(msg) from error
    return repair_repeated_spans(text, spans)


def repair_repeated_spans(text: str, spans: list[Span]) -> set[Span]:
    """Gold spans, with repeats moved to where they belong.

    IDRISI's Arabic annotations give a name written twice in a tweet twice at the offsets of
    its first occurrence; the copies are moved to the following occurrences of the same text."""
    out: set[Span] = set()
    for span in dict.fromkeys(spans):
        start, end = span
        out.add(span)
        surface = text[start:end]
        position = start
        for _ in range(spans.count(span) - 1):
            position = text.find(surface, position + len(surface)) if surface else -1
            if position < 0:
                break
            out.add((position, position + len(surface)))
    return out


def evaluate_idrisi(directory: Path, split: str | None = None, geocoder: Geocoder | None = None) -> dict[str, Any]:
    """Mention F1 (all, English, Arabic, per event) and geocoding accuracy on an IDRISI folder.

    Every row is used unless ``split`` names one (``train``, ``dev``)."""
    geocoder = geocoder or Geocoder.load()
    gold_path = directory / "mentions_gold.csv"
    rows = _read_csv(gold_path, _GOLD_COLUMNS)
    all_tweets = {row["tweet_id"] for row in rows}
    if split is not None:
        if rows and "split" not in rows[0]:
            msg = f"{gold_path}: no split column, so --split cannot be used"
            raise InputError(msg)
        rows = [row for row in rows if row.get("split") == split]
    geocoded_path = directory / "geocoded_mentions.csv"
    geocoded = _read_csv(geocoded_path, _GEOCODED_COLUMNS) if geocoded_path.exists() else []
    points: dict[str, list[tuple[Span, float, float]]] = defaultdict(list)
    for number, row in enumerate(geocoded, start=2):
        try:
            span = (int(row["start"]), int(row["end"]))
            points[row["tweet_id"]].append((span, float(row["lat"]), float(row["lon"])))
        except ValueError as error:
            msg = f"{geocoded_path}: row {number}: start, end, lat and lon must be numbers ({error})"
            raise InputError(msg) from error

    # A geocoded mention belongs to the split of its tweet in mentions_gold.csv (the two files of
    # IDRISI split tweets differently); one whose tweet is not there at all cannot be scored.
    without_text = sum(len(found) for tweet, found in points.items() if tweet not in all_tweets)
    overall = Counts()
    by_lang: defaultdict[str, Counts] = defaultdict(Counts)
    by_event: defaultdict[str, Counts] = defaultdict(Counts)
    seen_tweets: set[str] = set()
    texts = [row["text"] for row in rows]
    langs = [_lang(row["lang"]) for row in rows]
    predictions: list[list[PlaceMention]] = []
    for begin in range(0, len(texts), BATCH):
        predictions.extend(geocoder.mentions_many(texts[begin : begin + BATCH], langs[begin : begin + BATCH]))
    for number, (row, found) in enumerate(zip(rows, predictions, strict=True), start=2):
        gold = _gold_spans(gold_path, number, row["text"], row["location_mentions"])
        predicted = {(m.start, m.end) for m in found}
        targets = [overall, by_lang[row["lang"].upper()], by_event[f"{row['lang'].upper()}:{row['event']}"]]
        for counts in targets:
            counts.add(predicted, gold)
        tweet = row["tweet_id"]
        if tweet in seen_tweets:  # a tweet listed twice is geocoded once
            continue
        seen_tweets.add(tweet)
        for span, lat, lon in points.get(tweet, ()):
            distance = _error_km(found, span, lat, lon)
            for counts in targets:
                counts.geocoded += 1
                if distance is not None:
                    counts.errors.append(distance)
                    counts.within += distance <= ACCURACY_KM
    report = overall.report()
    english, arabic = by_lang.get("EN"), by_lang.get("AR")
    report["mention_f1_en"] = english.report()["mention_f1"] if english else None
    report["mention_f1_ar"] = arabic.report()["mention_f1"] if arabic else None
    report = {
        "dataset": "idrisi",
        "n": len(rows),
        "split": split or "all",
        **report,
        "geocoded_without_text": without_text,  # their tweet is not in mentions_gold.csv: not counted
        "per_language": {lang: counts.report() for lang, counts in sorted(by_lang.items())},
        "per_event": {event: counts.report() for event, counts in sorted(by_event.items())},
    }
    return report


def _lang(value: str) -> str | None:
    return {"EN": "en", "AR": "ar", "FA": "fa"}.get(value.strip().upper())


def _error_km(found: list[PlaceMention], span: Span, lat: float, lon: float) -> float | None:
    """Distance from the gold point to the predicted mention over the gold span (the one with
    the most overlap); None when there is none or it has no coordinates."""
    best: PlaceMention | None = None
    best_overlap = 0
    for mention in found:
        overlap = min(mention.end, span[1]) - max(mention.start, span[0])
        if overlap > best_overlap:
            best, best_overlap = mention, overlap
    if best is None or best.lat is None or best.lon is None:
        return None
    return distance_km(best.lat, best.lon, lat, lon)


# -- ParsTwiNER ----------------------------------------------------------------------------------------


def read_conll_locations(path: Path) -> list[tuple[str, set[Span]]]:
    """CoNLL sentences as (tokens joined by spaces, character spans of LOC entities)."""
    if not path.is_file():
        msg = f"{path}: file not found (expected CoNLL: token<TAB>tag lines, blank lines between tweets)"
        raise InputError(msg)
    out: list[tuple[str, set[Span]]] = []
    tokens: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            _flush(tokens, out)
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) < 2:
            msg = f"{path}: line {number}: expected a token and a tag separated by a tab"
            raise InputError(msg)
        tokens.append((parts[0], parts[-1].strip()))
    _flush(tokens, out)
    return out


def _flush(tokens: list[tuple[str, str]], out: list[tuple[str, set[Span]]]) -> None:
    if not tokens:
        return
    spans: set[Span] = set()
    position = 0
    open_start: int | None = None
    open_end = 0
    for token, tag in tokens:
        start, end = position, position + len(token)
        inside = tag == "I-LOC" and open_start is not None
        if not inside and open_start is not None:
            spans.add((open_start, open_end))
            open_start = None
        if tag in ("B-LOC", "I-LOC") and not inside:
            open_start = start
        open_end = end
        position = end + 1
    if open_start is not None:
        spans.add((open_start, open_end))
    out.append((" ".join(token for token, _ in tokens), spans))
    tokens.clear()


def evaluate_parstwiner(path: Path, geocoder: Geocoder | None = None) -> dict[str, Any]:
    """Persian place-mention precision, recall and F1 (LOC spans, exact match)."""
    geocoder = geocoder or Geocoder.load()
    sentences = read_conll_locations(path)
    if not sentences:
        msg = f"{path}: no sentences"
        raise InputError(msg)
    counts = Counts()
    texts = [text for text, _ in sentences]
    found = geocoder.mentions_many(texts, ["fa"] * len(texts))
    for (_, gold), mentions in zip(sentences, found, strict=True):
        counts.add({(m.start, m.end) for m in mentions}, gold)
    print(f"{len(sentences)} sentences, {counts.gold} gold place mentions", file=sys.stderr)
    return {"dataset": "parstwiner", "n": len(sentences), **counts.report()}
