"""Online story detection: group canonical posts into stories as they arrive, flag first stories.

Two detectors share one vectoriser and one verb, ``add(uids, texts, times, langs)``, which takes a
batch of posts in time order and returns one :class:`Assignment` per post:

:class:`StoryDetector` (the default)
    Each post is compared to the *centroids* of the active stories, not to single posts, so a
    story cannot drift from one event to another through a chain of loosely related posts. A post
    joins the most similar story when the cosine is above ``threshold`` (raised for big stories by
    ``size_penalty`` × log2 of its size: big stories attract everything); otherwise it starts a new
    story and is flagged as a *first story* (when it has at least ``min_terms`` terms: "omg" alone
    cannot start anything worth showing). Centroids keep their ``centroid_terms`` heaviest terms,
    so memory per story is bounded; stories not updated for ``ttl_seconds`` (``singleton_ttl_seconds``
    for one-post stories) or beyond ``max_active`` leave the active index (they stay in the store).
    Stories touched by a batch whose centroids come within ``merge_threshold`` of another active
    story are merged (fragments of one story meet); when both are at least ``big_size`` posts the
    centroids must be within ``big_merge_threshold`` (two grown stories that merge on shared generic
    words, "hurricane", "help", "victims", are how two crises end up in one story).
    Scores of a batch against all active centroids are one sparse join in numpy; posts of the same
    batch are compared to each other the same way, so a story started inside a batch is found by
    the posts after it.

:class:`PetrovicDetector` (the baseline of Petrović, Osborne and Lavrenko 2010)
    Locality-sensitive hashing of the post vectors, 12 tables of 12 random hyperplanes, buckets of
    at most 30 posts; the nearest neighbour among the colliding posts, and among the last 1,000
    posts when that one is not close enough; link to its story at cosine > 0.55.

Vectors are hashed TF-IDF (``2**18`` features, CRC-32 of the word, so the same across processes)
with document frequencies learned online; words are ``\\w+`` runs of the normalised text
(:func:`groundspeed.text.normalise`), mentions dropped, hashtags kept as the plain word, one-letter
words, digits-only words and a short list of function words in English, Spanish, Persian and
Arabic dropped. Everything is deterministic; ``dumps()``/``loads()`` snapshot the whole state.
"""

from __future__ import annotations

import base64
import json
import math
import re
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..text import normalise

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

N_FEATURES = 1 << 18
MAX_TERMS = 32  # distinct words kept per post (the heaviest): bounds the cost of a post
_MENTION_RE = re.compile(r"[@＠]\w+(?:[.\-@]\w+)*")
_WORD_RE = re.compile(r"\w+")
_STOPWORD_TEXT = (
    "the a an and or of to in on at for from by with is are was were be been it its this that these those "
    "i you he she we they me my your our their his her them us rt via amp just not no so but if as do does "
    "did have has had will would can could there here what when who how all more up out about after into "
    "el la los las de del en y que un una por con para se es al lo su le les des et du au il est pas "
    "o os da do dos das em um uma com não "
    "و در به از که این را با است آن برای تا یک هم ها های بر می شد شده نه یا اما من تو او ما شما ایشان "
    "في من على الى إلى عن مع هذا هذه ذلك التي الذي ما لا لم قد كان هو هي ثم او أو بعد كل"
)
_STOPWORDS = frozenset(normalise(word) for word in _STOPWORD_TEXT.split())  # folded like the texts


class Assignment(NamedTuple):
    """Where one post went: its story, whether it started that story, and how new it looked (0..1)."""

    uid: str
    story: int
    new: bool
    novelty: float


def _encode(array: npt.NDArray[Any]) -> dict[str, Any]:
    return {"dtype": str(array.dtype), "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}


def _decode(blob: dict[str, Any]) -> npt.NDArray[Any]:
    raw = base64.b64decode(blob["data"])
    return np.frombuffer(raw, dtype=np.dtype(blob["dtype"])).reshape(blob["shape"]).copy()


class Vectoriser:
    """Hashed TF-IDF with document frequencies learned online (bounded: one counter per feature)."""

    def __init__(self, n_features: int = N_FEATURES, max_terms: int = MAX_TERMS) -> None:
        self.n_features = n_features
        self.max_terms = max_terms
        self.df = np.zeros(n_features, dtype=np.int32)
        self.n_docs = 0
        self._ids: dict[str, int] = {}

    def _feature(self, word: str) -> int:
        """The feature of a word, -1 for a word left out (one letter, digits only, a function word)."""
        if len(self._ids) >= 1_000_000:
            self._ids.clear()
        key = word.strip("_")
        if len(key) < 2 or key in _STOPWORDS or key.isdigit():
            found = -1
        else:
            found = zlib.crc32(key.encode()) & (self.n_features - 1)
        self._ids[word] = found
        return found

    def features(self, text: str) -> dict[int, int]:
        """Term counts of one normalised text, by feature."""
        counts: dict[int, int] = {}
        known = self._ids.get
        for word in _WORD_RE.findall(_MENTION_RE.sub(" ", text) if "@" in text or "＠" in text else text):
            key = known(word)
            if key is None:
                key = self._feature(word)
            if key >= 0:
                counts[key] = counts.get(key, 0) + 1
        return counts

    def transform(self, texts: Sequence[str], learn: bool = True) -> tuple[IntArray, FloatArray, IntArray]:
        """Padded sparse rows of a batch: columns, L2-normalised weights (0 where padded), term counts.

        With ``learn`` the batch's words count into the document frequencies first.
        """
        bags = [self.features(text) for text in texts]
        n = len(bags)
        width = self.max_terms
        cols = np.zeros((n, width), dtype=np.int64)
        tfs = np.zeros((n, width), dtype=np.float32)
        sizes = np.zeros(n, dtype=np.int64)
        for row, bag in enumerate(bags):
            items = list(bag.items())[:width]
            sizes[row] = len(items)
            if items:
                cols[row, : len(items)] = [key for key, _ in items]
                tfs[row, : len(items)] = [count for _, count in items]
        present = tfs > 0
        if learn:
            np.add.at(self.df, cols[present], 1)
            self.n_docs += n
        idf = np.log((self.n_docs + 1.0) / (self.df[cols].astype(np.float32) + 1.0)) + 1.0
        weights = np.where(present, (1.0 + np.log(np.maximum(tfs, 1.0))) * idf, 0.0).astype(np.float32)
        norms = np.sqrt((weights * weights).sum(axis=1, keepdims=True))
        weights /= np.maximum(norms, 1e-12)
        return cols, weights, sizes

    def state(self) -> dict[str, Any]:
        return {
            "n_features": self.n_features,
            "max_terms": self.max_terms,
            "n_docs": self.n_docs,
            "df": _encode(self.df),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Vectoriser:
        made = cls(state["n_features"], state["max_terms"])
        made.n_docs = state["n_docs"]
        made.df = _decode(state["df"])
        return made


def sparse_scores(
    cols: IntArray, vals: FloatArray, index_cols: IntArray, index_rows: IntArray, index_vals: FloatArray, n_rows: int
) -> npt.NDArray[np.float64]:
    """Dot products of padded sparse rows (B × L) with an index of (row, col, val) entries sorted by col: B × n_rows."""
    n_batch = cols.shape[0]
    out = np.zeros(n_batch * max(n_rows, 1), dtype=np.float64)
    if n_rows == 0 or index_cols.size == 0:
        return out.reshape(n_batch, max(n_rows, 1))[:, :n_rows]
    batch_row, slot = np.nonzero(vals)
    query_cols = cols[batch_row, slot]
    query_vals = vals[batch_row, slot]
    lo = np.searchsorted(index_cols, query_cols, side="left")
    hi = np.searchsorted(index_cols, query_cols, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total:
        owner = np.repeat(np.arange(counts.size), counts)
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        entry = starts + np.arange(total)
        out += np.bincount(
            batch_row[owner] * n_rows + index_rows[entry],
            weights=query_vals[owner] * index_vals[entry],
            minlength=n_batch * n_rows,
        )
    return out.reshape(n_batch, n_rows)


@dataclass
class StorySettings:
    threshold: float = 0.12
    size_penalty: float = 0.0
    min_terms: int = 3
    centroid_terms: int = 150
    ttl_seconds: float = 36 * 3600.0
    singleton_ttl_seconds: float = 6 * 3600.0
    max_active: int = 4000
    merge_threshold: float = 0.3  # stories whose centroids are this close become one (0: never)
    big_size: int = 100  # two stories both at least this big (0: no such rule) merge only when ...
    big_merge_threshold: float = 0.5  # ... their centroids are at least this close


class _Story:
    __slots__ = ("centroid", "first_uid", "ident", "last_time", "size")

    def __init__(self, ident: int, first_uid: str, time: float) -> None:
        self.ident = ident
        self.first_uid = first_uid
        self.last_time = time
        self.size = 0
        self.centroid: dict[int, float] = {}

    def add(self, cols: IntArray, vals: FloatArray, time: float) -> None:
        centroid = self.centroid
        for key, value in zip(cols.tolist(), vals.tolist(), strict=True):
            if value:
                centroid[key] = centroid.get(key, 0.0) + value
        self.size += 1
        self.last_time = max(self.last_time, time)
        if len(centroid) > 512:  # bounded: keep the heaviest terms
            kept_cols, kept_vals = self._heaviest(256)
            self.centroid = dict(zip(kept_cols.tolist(), kept_vals.tolist(), strict=True))

    def _heaviest(self, k: int) -> tuple[IntArray, npt.NDArray[np.float64]]:
        """The k heaviest centroid terms, heaviest first (ties: the smaller feature first)."""
        n = len(self.centroid)
        if n <= 64:  # small: a plain sort is cheaper than building arrays
            items = sorted(self.centroid.items(), key=lambda item: (-item[1], item[0]))[:k]
            return np.array([key for key, _ in items], dtype=np.int64), np.array([v for _, v in items])
        cols = np.fromiter(self.centroid.keys(), dtype=np.int64, count=n)
        vals = np.fromiter(self.centroid.values(), dtype=np.float64, count=n)
        order = np.lexsort((cols, -vals))[:k]
        return cols[order], vals[order]

    def top(self, k: int) -> tuple[IntArray, FloatArray]:
        cols, vals = self._heaviest(k)
        norm = float(np.sqrt((vals * vals).sum()))
        return cols, (vals / max(norm, 1e-12)).astype(np.float32)


class StoryDetector:
    """Centroid-based online story detector (see the module documentation)."""

    def __init__(self, settings: StorySettings | None = None, vectoriser: Vectoriser | None = None) -> None:
        self.settings = settings or StorySettings()
        self.vectoriser = vectoriser or Vectoriser()
        self.next_id = 0
        self.active: dict[int, _Story] = {}
        self._top: dict[int, tuple[IntArray, FloatArray]] = {}
        self.aliases: dict[int, int] = {}  # a story merged into another: old id -> the id it went to

    def resolve(self, story: int) -> int:
        """The story a (possibly merged) story id is part of now."""
        while story in self.aliases:
            story = self.aliases[story]
        return story

    @property
    def active_count(self) -> int:
        return len(self.active)

    def _index(self) -> tuple[list[int], IntArray, IntArray, FloatArray]:
        ids = list(self.active)
        k = self.settings.centroid_terms
        parts_cols: list[IntArray] = []
        parts_rows: list[IntArray] = []
        parts_vals: list[FloatArray] = []
        for row, ident in enumerate(ids):
            top = self._top.get(ident)
            if top is None:
                top = self._top[ident] = self.active[ident].top(k)
            parts_cols.append(top[0])
            parts_vals.append(top[1])
            parts_rows.append(np.full(top[0].size, row, dtype=np.int64))
        if not ids:
            empty = np.zeros(0, dtype=np.int64)
            return ids, empty, empty, np.zeros(0, dtype=np.float32)
        cols = np.concatenate(parts_cols)
        order = np.argsort(cols, kind="stable")
        return ids, cols[order], np.concatenate(parts_rows)[order], np.concatenate(parts_vals)[order]

    def _expire(self, now: float) -> None:
        s = self.settings
        gone = [
            ident
            for ident, story in self.active.items()
            if now - story.last_time > (s.singleton_ttl_seconds if story.size <= 1 else s.ttl_seconds)
        ]
        if len(self.active) - len(gone) > s.max_active:
            dropped = set(gone)
            alive = sorted((story.last_time, ident) for ident, story in self.active.items() if ident not in dropped)
            gone += [ident for _, ident in alive[: len(alive) - s.max_active]]
        for ident in gone:
            self.active.pop(ident, None)
            self._top.pop(ident, None)

    def add(
        self,
        uids: Sequence[str],
        texts: Sequence[str],
        times: Sequence[float],
        langs: Sequence[str | None] | None = None,
    ) -> list[Assignment]:
        """Assign a batch of posts (normalised texts, times in seconds, in time order) to stories."""
        if not uids:
            return []
        s = self.settings
        cols, vals, sizes = self.vectoriser.transform(texts)
        ids, index_cols, index_rows, index_vals = self._index()
        existing = sparse_scores(cols, vals, index_cols, index_rows, index_vals, len(ids))
        batch_index = np.argsort(cols.ravel(), kind="stable")
        flat_rows = np.repeat(np.arange(len(uids)), cols.shape[1])
        within = sparse_scores(
            cols, vals, cols.ravel()[batch_index], flat_rows[batch_index], vals.ravel()[batch_index], len(uids)
        )
        if ids:
            best_rows = existing.argmax(axis=1).tolist()
            best_scores = existing.max(axis=1).tolist()
        else:
            best_rows = [0] * len(uids)
            best_scores = [0.0] * len(uids)
        sizes_list = sizes.tolist()
        penalty = s.size_penalty
        story_of: list[int] = []
        out: list[Assignment] = []
        log2 = math.log2
        for i, uid in enumerate(uids):
            time = float(times[i])
            target = -1
            score = 0.0
            if ids:
                story = self.active.get(ids[best_rows[i]])
                if story is not None:
                    score = best_scores[i]
                    target = story.ident
            if i:
                row = within[i, :i]
                j = int(row.argmax())
                if row[j] > score and story_of[j] in self.active:
                    score = float(row[j])
                    target = story_of[j]
            need = s.threshold
            if target >= 0 and penalty:
                need += penalty * log2(max(self.active[target].size, 1))
            if target >= 0 and score >= need:
                joined = self.active[target]
                joined.add(cols[i], vals[i], time)
                self._top.pop(target, None)
                story_of.append(target)
                out.append(Assignment(uid, target, False, round(1.0 - score, 4)))
                continue
            ident = self.next_id
            self.next_id += 1
            fresh = _Story(ident, uid, time)
            fresh.add(cols[i], vals[i], time)
            self.active[ident] = fresh
            story_of.append(ident)
            out.append(Assignment(uid, ident, sizes_list[i] >= s.min_terms, round(1.0 - score, 4)))
        if s.merge_threshold > 0:
            self._merge(sorted(set(story_of)))
        self._expire(float(times[-1]))
        return out

    def _merge(self, touched: list[int]) -> None:
        """Stories touched by the batch that came close to another active story are merged into the bigger."""
        touched = [ident for ident in touched if ident in self.active and self.active[ident].size >= 2]
        if not touched:
            return
        ids, index_cols, index_rows, index_vals = self._index()
        k = self.settings.centroid_terms
        cols = np.zeros((len(touched), k), dtype=np.int64)
        vals = np.zeros((len(touched), k), dtype=np.float32)
        for row, ident in enumerate(touched):
            top_cols, top_vals = self._top[ident]
            cols[row, : top_cols.size] = top_cols
            vals[row, : top_vals.size] = top_vals
        scores = sparse_scores(cols, vals, index_cols, index_rows, index_vals, len(ids))
        position = {ident: row for row, ident in enumerate(ids)}
        for row, ident in enumerate(touched):
            scores[row, position[ident]] = 0.0
        rows, hits = np.nonzero(scores >= self.settings.merge_threshold)
        for row, hit in zip(rows.tolist(), hits.tolist(), strict=True):
            a, b = self.resolve(touched[row]), self.resolve(ids[hit])
            if a == b or a not in self.active or b not in self.active:
                continue
            if self._guarded(a, b, float(scores[row, hit])):
                continue
            keep, gone = (a, b) if (self.active[a].size, -a) >= (self.active[b].size, -b) else (b, a)
            kept, merged = self.active[keep], self.active.pop(gone)
            for key, value in merged.centroid.items():
                kept.centroid[key] = kept.centroid.get(key, 0.0) + value
            kept.size += merged.size
            kept.last_time = max(kept.last_time, merged.last_time)
            self.aliases[gone] = keep
            self._top.pop(keep, None)
            self._top.pop(gone, None)

    def _guarded(self, a: int, b: int, score: float) -> bool:
        """Whether a merge of two stories is refused: both big and not close enough for big stories.

        Two big stories that merge are where crises get mixed (one hurricane's story swallowing
        another's through shared words like "hurricane", "help", "victims"); small fragments still
        merge at ``merge_threshold``, which is where the recall comes from.
        """
        s = self.settings
        if not s.big_size or min(self.active[a].size, self.active[b].size) < s.big_size:
            return False
        return score < s.big_merge_threshold

    def dumps(self) -> bytes:
        """The whole state, to continue later with :meth:`loads` exactly where this one stopped."""
        stories = [
            [story.ident, story.first_uid, story.last_time, story.size, list(story.centroid.items())]
            for story in self.active.values()
        ]
        state = {
            "kind": "stories",
            "settings": asdict(self.settings),
            "vectoriser": self.vectoriser.state(),
            "next_id": self.next_id,
            "aliases": list(self.aliases.items()),
            "stories": stories,
        }
        return json.dumps(state).encode()

    @classmethod
    def loads(cls, blob: bytes) -> StoryDetector:
        state = json.loads(blob)
        made = cls(StorySettings(**state["settings"]), Vectoriser.from_state(state["vectoriser"]))
        made.next_id = state["next_id"]
        made.aliases = {int(old): int(new) for old, new in state["aliases"]}
        for ident, first_uid, last_time, size, centroid in state["stories"]:
            story = _Story(ident, first_uid, last_time)
            story.size = size
            story.centroid = {int(key): float(value) for key, value in centroid}
            made.active[ident] = story
        return made


class PetrovicDetector:
    """Plain first story detection with LSH (Petrović et al. 2010), the baseline."""

    def __init__(
        self,
        tables: int = 12,
        bits: int = 12,
        bucket_size: int = 30,
        recent: int = 1000,
        threshold: float = 0.55,
        memory: int = 100_000,
        seed: int = 0,
        vectoriser: Vectoriser | None = None,
    ) -> None:
        self.tables, self.bits, self.bucket_size = tables, bits, bucket_size
        self.recent, self.threshold, self.memory = recent, threshold, memory
        self.vectoriser = vectoriser or Vectoriser()
        rng = np.random.default_rng(seed)
        # One random Gaussian hyperplane coordinate per (feature mod 2**16, plane): hashed hyperplanes.
        self.planes = rng.standard_normal((1 << 16, tables * bits)).astype(np.float32)
        self.buckets: list[dict[int, deque[int]]] = [{} for _ in range(tables)]
        self.ring_cols = np.zeros((memory, self.vectoriser.max_terms), dtype=np.int64)
        self.ring_vals = np.zeros((memory, self.vectoriser.max_terms), dtype=np.float32)
        self.ring_story = np.full(memory, -1, dtype=np.int64)
        self.count = 0
        self.next_id = 0
        self._dense = np.zeros(self.vectoriser.n_features, dtype=np.float32)
        self._powers = (1 << np.arange(bits)).astype(np.int64)

    def add(
        self,
        uids: Sequence[str],
        texts: Sequence[str],
        times: Sequence[float],
        langs: Sequence[str | None] | None = None,
    ) -> list[Assignment]:
        cols, vals, sizes = self.vectoriser.transform(texts)
        projected = np.einsum("blp,bl->bp", self.planes[cols & 0xFFFF], vals)
        keys = ((projected > 0).reshape(len(uids), self.tables, self.bits).astype(np.int64) * self._powers).sum(axis=2)
        keys_list = keys.tolist()
        out: list[Assignment] = []
        dense = self._dense
        for i, uid in enumerate(uids):
            candidates: set[int] = set()
            for table, key in zip(self.buckets, keys_list[i], strict=True):
                bucket = table.get(key)
                if bucket is not None:
                    candidates.update(bucket)
            low = self.count - self.memory
            found = np.fromiter((c for c in candidates if c >= low), dtype=np.int64)
            row_cols, row_vals = cols[i], vals[i]
            dense[row_cols] = row_vals
            best, best_pos = 0.0, -1
            for pool in (found, np.arange(max(self.count - self.recent, 0), self.count, dtype=np.int64)):
                if best > self.threshold or pool.size == 0:
                    continue
                slots = pool % self.memory
                sims = (dense[self.ring_cols[slots]] * self.ring_vals[slots]).sum(axis=1)
                top = int(sims.argmax())
                if sims[top] > best:
                    best, best_pos = float(sims[top]), int(pool[top])
            dense[row_cols] = 0.0
            slot = self.count % self.memory
            if best > self.threshold and best_pos >= 0:
                story, new = int(self.ring_story[best_pos % self.memory]), False
            else:
                story, new = self.next_id, bool(sizes[i] > 0)
                self.next_id += 1
            self.ring_cols[slot], self.ring_vals[slot], self.ring_story[slot] = row_cols, row_vals, story
            if sizes[i] > 0:
                for table, key in zip(self.buckets, keys_list[i], strict=True):
                    bucket = table.get(key)
                    if bucket is None:
                        bucket = table[key] = deque(maxlen=self.bucket_size)
                    bucket.append(self.count)
            self.count += 1
            out.append(Assignment(uid, story, new, round(1.0 - best, 4)))
        return out
