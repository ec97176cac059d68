"""Near-copies: the same message posted again with other hashtags, mentions or links, or with small edits.

A post is grouped under a *canonical* post, the first one seen of its message, and the tracker counts
the copies. Retweets are linked by id elsewhere; this is for the text of originals, quotes and replies.
Everything runs over a batch at once in numpy; the only Python work per post is building the result.

What is compared (:func:`stripped_for_copy`)
    The post's normalised text (:func:`groundspeed.text.normalise`: case, Arabic/Persian letters and
    joiners folded, links gone) with mentions removed wherever they are, ``rt`` tokens removed,
    hashtags removed at the *edges* (the runs of hashtags, mentions and punctuation-only tokens that
    open or close a post: campaign tags) but kept as words inside a sentence (``death toll in #savar
    rises`` keeps "savar"), and punctuation, symbols, emoji and ``_`` turned into word breaks
    (``#زن_زندگی_آزادی`` inside a sentence gives three words). Digits are kept, and more (below).

Numbers must agree
    Two posts are near-copies only if they hold the same numbers (tokens of digits, as a multiset):
    ``kills at least 39`` and ``kills at least 48`` are two updates, not one message. On the
    development streams this removed the main kind of wrong match (death tolls, magnitudes, times).

The short-text rule
    A post whose stripped text has fewer than ``min_tokens`` words (5) is grouped by exact match only,
    on a stricter key: the text with its hashtags kept as words. So ``pray for boston #boston`` groups
    with itself posted again but not with ``pray for boston #prayforboston``, nor ``gunfire reported
    in #tehran`` with ``... #mashhad``. Fewer than three words (``colorado springs ❤``) are never
    grouped, unless they are long runs of letters (scripts written without spaces), and a post with
    no words left (only hashtags, mentions, links or emoji: ``#iranelection``) is never grouped.

Longer posts: MinHash LSH over character shingles
    Character 5-grams of the stripped text, spaces included; they cope with small edits, with words
    written with or without a joiner, and with scripts written without spaces (measured: 99.6-100%
    of made-up copies of real posts found, whether a word was added, dropped, changed or misspelt).
    Each shingle is hashed once (a polynomial hash of its UTF-16 units, from running sums) and the
    signature is *one-permutation* MinHash (Li, Owen and Zhang 2012): the top bits of the hash pick
    one of ``num_perm`` bins and each bin keeps the least hash, stored as its low 8 bits (b-bit
    minwise hashing: two different minima agree by chance 1 time in 256). A bin agrees between two
    posts with probability the Jaccard similarity of their shingle sets, at the cost of one hash per
    shingle instead of ``num_perm``. Similarity is estimated as agreeing bins over bins not empty in
    both (short posts leave bins empty; no densification needed). 16 bands of 4 bins (a 32-bit key
    each) find candidates: a pair at J = 0.7 shares a band with probability 0.99, at J = 0.4 with
    0.34. The two candidates sharing the most bands are compared, the most similar one reaching
    ``threshold`` (0.7) wins. Every member of a group is thus estimated to be at least ``threshold``
    similar to its canonical post (copies of copies are checked against the first post).

Exact fast path
    A 64-bit hash of the stripped text is looked up first; copies with the same stripped text (the
    usual copy with other tags) cost no MinHash work. Copies' keys are remembered too, pointing to
    their canonical post, so an edited copy that is copied again is found by the fast path.

Within a batch
    Posts are taken ``CHUNK`` at a time, in order: each chunk is matched against the index, then
    against itself (the earliest post of the chunk with the same band key, in a small table), then
    remembered, so later posts of a batch find earlier ones either way. Both ways give the same
    grouping in nearly every case, but the groups can depend on where batches are cut: the same posts
    in the same batches always give the same groups.

Bounded cost and memory: the window
    The index remembers the last ``window`` canonical posts (rounded up to a power of two; 131,072 by
    default): a ring, the oldest forgotten first, so a copy of a forgotten post starts a new group.
    A canonical post that is copied after half the window has gone by moves to the front, so a
    campaign that keeps being copied stays found however long it runs, while a message nobody repeats
    leaves after ``window`` newer ones. Buckets are fixed tables (at least twice the window) where a
    newer entry replaces an older one, so memory and the cost per post do not grow with the stream:
    about 300 bytes per slot (~40 MB for the default window, snapshots ~17 MB). The window counts
    canonical posts, not event time: in a burst it covers hours, in a quiet week days; a count keeps
    memory fixed whatever the rate. The trade-off is recall for copies of long-silent posts.

Everything is deterministic (hash constants from a fixed splitmix64 stream, not Python's ``hash``),
so reprocessing the same batches gives the same groups, and :meth:`NearCopyIndex.dumps` /
:meth:`NearCopyIndex.loads` continue where a run stopped, with identical results.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from typing import Final

import msgspec
import numpy as np
from numpy.typing import NDArray

__all__ = ["NearCopyIndex", "stripped_for_copy"]

DEFAULT_THRESHOLD: Final = 0.7
DEFAULT_NUM_PERM: Final = 64
DEFAULT_WINDOW: Final = 1 << 17  # 131,072 canonical posts
DEFAULT_MIN_TOKENS: Final = 5
DEFAULT_SHINGLE: Final = 5
ROWS: Final = 4  # bins per band: four 8-bit minima make one 32-bit band key
_FORMAT: Final = 1  # snapshot layout version

_U64 = NDArray[np.uint64]
_I64 = NDArray[np.int64]
_EMPTY_BIN: Final = 0xFF  # bins hold at most 0xFE, so this marks "no shingle"
_EMPTY_BAND: Final = np.uint32(2**32 - 1)  # a band of four empty bins
_MAX_SEQ: Final = 2**32 - 1  # sequence numbers are stored as uint32

# Character classes of UTF-16 code units.
_BREAK, _WORD, _SPACE, _HASH, _AT = 0, 1, 2, 3, 4


# -- constants -------------------------------------------------------------------------------------


def _fmix(x: _U64) -> _U64:
    """The murmur3 64-bit finaliser, in place: every input bit affects every output bit."""
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return x


def _constants(stream: int, count: int) -> _U64:
    """``count`` pseudo-random odd 64-bit numbers (splitmix64): fixed forever, whatever numpy does."""
    state = (np.arange(1, count + 1, dtype=np.uint64) + np.uint64(stream << 20)) * np.uint64(_GOLDEN)
    return _fmix(state) | np.uint64(1)


_GOLDEN: Final = 0x9E3779B97F4A7C15
_BASE: Final = int(_constants(7, 1)[0])  # the polynomial hash base (odd, so invertible modulo 2**64)
_MIX: Final = np.uint64(int(_constants(8, 1)[0]))
_powers: list[_U64] = []  # [BASE**i, BASE**-i] for i < len: grown on demand, shared


def _powers_of_base(length: int) -> tuple[_U64, _U64]:
    """BASE**i and its inverse BASE**-i modulo 2**64 for i < ``length`` (at least)."""
    if not _powers or len(_powers[0]) < length:
        size = max(1 << 16, 1 << (length - 1).bit_length())
        power = np.full(size, _BASE, dtype=np.uint64)
        power[0] = 1
        inverse = np.full(size, pow(_BASE, -1, 1 << 64), dtype=np.uint64)
        inverse[0] = 1
        _powers[:] = [np.multiply.accumulate(power), np.multiply.accumulate(inverse)]
    return _powers[0], _powers[1]


@functools.cache
def _classes() -> NDArray[np.uint8]:
    """Word characters are letters, digits and marks; '#', '@' and white space apart; everything
    else (punctuation, symbols, emoji, '_', surrogates) is a word break. Built on first use (~20 ms)."""
    table = np.zeros(0x10000, dtype=np.uint8)
    category = unicodedata.category
    for unit in range(0x10000):
        char = chr(unit)
        if category(char)[0] in "LNM":
            table[unit] = _WORD
        elif char.isspace():
            table[unit] = _SPACE
    table[ord("#")] = _HASH
    table[ord("@")] = _AT
    return table


def _ranges(starts: _I64, lengths: _I64) -> _I64:
    """The positions ``starts[i] .. starts[i] + lengths[i] - 1`` for every i, one after another."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    return np.asarray(np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths), dtype=np.int64)


def _encode(texts: Sequence[str]) -> tuple[NDArray[np.uint16], _I64]:
    """The texts as UTF-16 code units, each followed by a newline, and the newlines' positions."""
    units = np.frombuffer(("\n".join(texts) + "\n").encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1) - 1
    if len(ends) and ends[-1] != len(units) - 1:  # characters beyond the BMP take two units each
        ends = np.flatnonzero(units == 10)
        if len(ends) != len(texts):  # and a text with a newline of its own: a space does the same
            return _encode([text.replace("\n", " ") for text in texts])
    return units, ends


# -- stripping -------------------------------------------------------------------------------------


class _Stripped:
    """Stripped texts of a batch as UTF-16 code units, each followed by a newline: post ``i`` is
    ``chars[starts[i]:starts[i + 1] - 1]``; ``prefix`` is the running polynomial hash of ``chars``."""

    __slots__ = ("chars", "prefix", "starts", "tokens")

    def __init__(self, chars: NDArray[np.uint16], starts: _I64, tokens: _I64) -> None:
        self.chars = chars
        self.starts = starts
        self.tokens = tokens
        power, _ = _powers_of_base(len(chars) + 1)
        self.prefix = np.zeros(len(chars) + 1, dtype=np.uint64)
        np.cumsum(power[: len(chars)] * chars, out=self.prefix[1:])

    @property
    def lengths(self) -> _I64:
        return np.diff(self.starts) - 1

    def texts(self) -> list[str]:
        return self.chars.tobytes().decode("utf-16-le", "surrogatepass").split("\n")[:-1]

    def window_hashes(self, begin: _I64 | None, width: int) -> _U64:
        """The hash of ``chars[b:b + width]`` for each b of ``begin`` (None: every b), the same
        wherever the text is."""
        _, inverse = _powers_of_base(len(self.chars) + 1)
        if begin is None:
            count = len(self.chars) - width + 1
            return (self.prefix[width:] - self.prefix[:count]) * inverse[:count]
        return (self.prefix[begin + width] - self.prefix[begin]) * inverse[begin]

    def keys(self, salt: int) -> _U64:
        """A 64-bit hash of each stripped text (0 for an empty one)."""
        lengths = self.lengths
        keys = self._spans(self.starts[:-1], self.starts[1:] - 1)
        keys ^= lengths.astype(np.uint64) * np.uint64(_GOLDEN) + np.uint64(salt)
        keys = _fmix(keys)
        keys[keys == 0] = 1
        keys[lengths == 0] = 0  # no key: never grouped
        return keys

    def _spans(self, begin: _I64, end: _I64) -> _U64:
        _, inverse = _powers_of_base(len(self.chars) + 1)
        return (self.prefix[end] - self.prefix[begin]) * inverse[begin]

    def numbers(self) -> _U64:
        """A hash of the numbers (tokens of digits only) of each post, as a multiset (0: none)."""
        chars = self.chars
        digit = np.flatnonzero((chars - np.uint16(ord("0"))) < 10)  # wraps below '0'
        keys = np.zeros(len(self.tokens), dtype=np.uint64)
        if len(digit) == 0:
            return keys
        run_start = np.ones(len(digit), dtype=bool)
        run_start[1:] = digit[1:] != digit[:-1] + 1
        run_end = np.ones(len(digit), dtype=bool)
        run_end[:-1] = run_start[1:]
        begin, end = digit[run_start], digit[run_end] + 1  # end: always a space or the newline
        alone = chars[end] <= 32  # a whole token: "48", not "2pm" nor "g20"
        alone[begin > 0] &= chars[begin[begin > 0] - 1] <= 32
        begin, end = begin[alone], end[alone]
        hashes = _fmix(self._spans(begin, end) + (end - begin).astype(np.uint64))
        np.add.at(keys, np.searchsorted(self.starts, begin, side="right") - 1, hashes)
        return keys


def _strip(texts: Sequence[str], *, keep_tags: bool = False) -> _Stripped:
    """What near-copies are compared on (see the module docstring), for a whole batch at once.

    With ``keep_tags`` hashtags are kept as words wherever they are (the key of short texts).
    """
    n = len(texts)
    units, ends = _encode(texts)
    cls = np.take(_classes(), units)
    space = cls == _SPACE
    edges = np.flatnonzero(space[1:] != space[:-1]) + 1  # where tokens start and end
    if not space[0]:
        edges = np.append(0, edges)
    tok_start, width = edges[0::2], edges[1::2] - edges[0::2]  # the text ends with a newline
    # A token's first significant character ('“@user:' is a mention, '(#tag)' a hashtag); a token
    # opening with four breaks counts as punctuation.
    lead = cls[tok_start]
    for step in range(1, 4):
        unclear = np.flatnonzero((lead == _BREAK) & (width > step))
        if len(unclear) == 0:
            break
        lead[unclear] = cls[tok_start[unclear] + step]
    mention = lead == _AT
    tag = lead == _HASH
    short = np.flatnonzero((units[tok_start] == ord("r")) & ((width == 2) | (width == 3)))
    rt = short[
        (units[tok_start[short] + 1] == ord("t")) & ((width[short] == 2) | (units[tok_start[short] + 2] == ord(":")))
    ]  # 'rt' or 'rt:' (a token is followed by at least the newline)
    drop = mention
    drop[rt] = True
    post_first = np.searchsorted(tok_start, np.append(0, ends + 1))  # each post's first token
    if not keep_tags:
        # Hashtags in the opening or closing run of tags, mentions and punctuation are dropped.
        content = ~(drop | tag | (lead == _BREAK))
        seen = np.zeros(len(tok_start) + 1, dtype=np.int32)
        np.cumsum(content, out=seen[1:])
        tags = np.flatnonzero(tag)
        post = np.searchsorted(ends, tok_start[tags])
        before = seen[tags] - seen[post_first[post]]
        after = seen[post_first[post + 1]] - seen[tags + 1]
        drop[tags[(before == 0) | (after == 0)]] = True
    # Words: the tokens kept that hold a letter or digit ("don't" is one, "--" none).
    kept = np.zeros(len(tok_start) + 1, dtype=np.int32)
    np.cumsum(~drop & (lead != _BREAK), out=kept[1:])
    tokens = np.diff(kept[post_first]).astype(np.int64)
    word = cls == _WORD
    word[_ranges(tok_start[drop], width[drop])] = False
    # Everything but kept word characters becomes a space; runs of spaces become one, and no post
    # starts or ends with one.
    chars = np.maximum(units * word, np.uint16(32))  # word characters are all above the space
    chars[ends] = 10
    surplus = ~word  # a break after a break (or after the newline before the post) goes
    surplus[1:] &= surplus[:-1].copy()
    surplus[ends] = False
    chars = chars[~surplus]
    newline = np.flatnonzero(chars == 10)
    trailing = chars[np.maximum(newline - 1, 0)] == 32  # a space left before the newline
    if trailing.any():
        keep = np.ones(len(chars), dtype=bool)
        keep[newline[trailing] - 1] = False
        chars = chars[keep]
        newline -= np.cumsum(trailing)
    starts = np.zeros(n + 1, dtype=np.int64)
    starts[1:] = newline + 1
    return _Stripped(chars, starts, tokens)


def stripped_for_copy(text: str) -> str:
    """The text near-copies are compared on: no mentions, no edge hashtags, no punctuation (module docstring)."""
    return _strip([text]).texts()[0]


# -- signatures ------------------------------------------------------------------------------------


def _signatures(stripped: _Stripped, select: _I64, *, bins: int, shingle: int) -> NDArray[np.uint8]:
    """One-permutation MinHash signatures of the selected posts: ``(len(select), bins)``, in order.

    Each bin keeps the low 8 bits of its least 16-bit hash (b-bit minwise hashing: equal by chance
    one time in 256, which :func:`_similarity` can afford); a bin without a shingle holds
    ``_EMPTY_BIN``."""
    m = len(select)
    lengths = stripped.lengths[select]
    windows = lengths - shingle + 1  # selected posts are at least a shingle long
    if m * 4 >= len(stripped.tokens) * 3:
        # Most posts: hash every window of the batch (slices, no gathers) and send the windows
        # that are not wholly inside a selected post to a spare row that is then dropped.
        row = np.full(len(stripped.tokens), m, dtype=np.intp)
        row[select] = np.arange(m)
        hashes = stripped.window_hashes(None, shingle)
        slot = np.repeat(row * bins, np.diff(stripped.starts))[: len(hashes)]
        ends = stripped.starts[1:] - 1  # the newline after each post
        for back in range(shingle):
            crossing = ends - back
            slot[crossing[(crossing >= 0) & (crossing < len(slot))]] = m * bins
    else:
        hashes = stripped.window_hashes(_ranges(stripped.starts[select], windows), shingle)
        slot = np.repeat(np.arange(0, m * bins, bins, dtype=np.intp), windows)
    hashes *= _MIX
    hashes >>= np.uint64(32)
    mixed = hashes.astype(np.uint32)
    slot += mixed >> np.uint32(32 - (bins.bit_length() - 1))
    least = np.full((m + 1) * bins, 0xFFFF, dtype=np.uint16)
    np.minimum.at(least, slot, mixed.astype(np.uint16))
    least = least[: m * bins]
    signature = least.astype(np.uint8)
    np.minimum(signature, np.uint8(_EMPTY_BIN - 1), out=signature)
    signature[least == 0xFFFF] = _EMPTY_BIN
    return signature.reshape(m, bins)


def _similarity(left: NDArray[np.uint8], right: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Estimated Jaccard similarity, row by row: agreeing bins among the bins not empty in both
    (Li, Owen and Zhang 2012)."""
    same = left == right
    empty = _count(same & (left == _EMPTY_BIN))
    return np.asarray((_count(same) - empty) / np.maximum(left.shape[1] - empty, 1), dtype=np.float64)


def _count(mask: NDArray[np.bool_]) -> _I64:
    """True values per row of a (rows, multiple of 8) mask, as packed bits counted."""
    packed = np.packbits(mask, axis=1)
    counts = np.bitwise_count(packed.view(np.uint64) if packed.shape[1] % 8 == 0 else packed)
    return np.asarray(counts.sum(axis=1, dtype=np.int64) if counts.shape[1] > 1 else counts[:, 0], dtype=np.int64)


def _unique(values: _I64) -> _I64:
    """Sorted distinct values (``np.unique`` without its hash-table path, slower for int64 here)."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


CHUNK: Final = 2500  # posts matched at a time
CHUNK_UNITS: Final = 1 << 19  # and about as many characters at most (long Telegram posts, articles)
CANDIDATES: Final = 2  # candidates compared per post: those sharing the most bands


def _top_candidates(found: NDArray[np.integer]) -> tuple[_I64, _I64]:
    """Per row of ``found`` (candidates by band, 0 for none), the ``CANDIDATES`` distinct ones
    found in the most bands, then the smallest: (row, candidate) pairs, sorted. A copy shares about
    ``bands * J**4`` bands with its original (4 of 16 at J = 0.7), an unrelated post rarely two."""
    m, bands = found.shape  # bands: a power of two
    if m == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ordered = np.sort(found, axis=1).reshape(-1)  # in its own (narrow) integer type
    start = np.empty(len(ordered), dtype=bool)
    start[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=start[1:])
    start[::bands] = True
    runs = np.flatnonzero(start)
    length = np.diff(runs, append=len(ordered))
    value = ordered[runs].astype(np.int64)
    score = np.where(value > 0, length << 32 | (_MAX_SEQ - value), -1)
    row_first = np.flatnonzero((runs & (bands - 1)) == 0)  # every row has a first run
    row_of_run = np.repeat(np.arange(m), np.diff(row_first, append=len(runs)))
    picked = []
    for _ in range(CANDIDATES):
        best = np.maximum.reduceat(score, row_first)
        has = np.flatnonzero(best >= 0)
        picked.append(has << 32 | (_MAX_SEQ - (best[has] & _MAX_SEQ)))
        score[score == best[row_of_run]] = -1
    pairs = np.sort(np.concatenate(picked))
    return pairs >> 32, pairs & _MAX_SEQ


def _pick_best(row: _I64, other: _I64, similarity: NDArray[np.float64]) -> tuple[_I64, _I64]:
    """Per distinct ``row`` (sorted), the ``other`` of highest similarity, then the smallest."""
    if len(row) == 0:
        return row, other
    score = (similarity * (1 << 20)).astype(np.int64) << 32 | (_MAX_SEQ - other)
    row_start = np.ones(len(row), dtype=bool)
    row_start[1:] = row[1:] != row[:-1]
    starts = np.flatnonzero(row_start)
    best = np.maximum.reduceat(score, starts)
    return row[starts], _MAX_SEQ - (best & _MAX_SEQ)


def _last_per_index(index: _I64) -> _I64:
    """Positions of the last occurrence of each distinct value of ``index`` (for scatter writes)."""
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = ordered[1:] != ordered[:-1]
    return np.asarray(order[last], dtype=np.int64)


# -- the index -------------------------------------------------------------------------------------


class _Snapshot(msgspec.Struct, array_like=True):
    format: int
    threshold: float
    num_perm: int
    window: int
    min_tokens: int
    shingle: int
    seq: int
    ring_seq: bytes
    ring_sig: bytes
    ring_key: bytes
    ring_numbers: bytes
    ring_long: bytes
    uids: list[str]
    exact_key: bytes
    exact_seq: bytes


class _Batch:
    """Working state of one ``assign`` call. ``canonical``: -1 new, 0..n-1 a post of the batch,
    n + slot a post in the ring; ``seq_hit``: the ring sequence number matched (0: none)."""

    __slots__ = ("canonical", "numbers", "seq_hit", "sig")

    def __init__(self, n: int, num_perm: int) -> None:
        self.canonical = np.full(n, -1, dtype=np.int64)
        self.seq_hit = np.zeros(n, dtype=np.int64)
        self.sig = np.zeros((n, num_perm), dtype=np.uint8)
        self.numbers = np.zeros(n, dtype=np.uint64)


class NearCopyIndex:
    """Groups near-copies of posts arriving in batches, in time order; see the module docstring.

    ``threshold``: the estimated Jaccard similarity of character shingle sets from which two posts
    are one message (0.7: on the development streams, 149 of 150 sampled near pairs were judged the
    same message by hand). ``num_perm``: signature bins, a power of two (bands of 4 bins).
    ``window``: canonical posts remembered, rounded up to a power of two. ``min_tokens``: stripped
    texts with fewer words match exactly only. ``shingle``: characters per shingle. All of them are
    kept in snapshots; an index is fed one stream, in time order, and is not thread-safe.

    >>> index = NearCopyIndex()
    >>> index.assign(["a", "b"], ["gunfire near the main square in tehran tonight #iranprotests",
    ...                           "@bob gunfire near the main square in tehran tonight #mahsaamini"])
    [None, 'a']
    """

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        num_perm: int = DEFAULT_NUM_PERM,
        window: int = DEFAULT_WINDOW,
        min_tokens: int = DEFAULT_MIN_TOKENS,
        shingle: int = DEFAULT_SHINGLE,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            msg = f"threshold must be in (0, 1], not {threshold}"
            raise ValueError(msg)
        if num_perm < ROWS or num_perm & (num_perm - 1):
            msg = f"num_perm must be a power of two, at least {ROWS}, not {num_perm}"
            raise ValueError(msg)
        if window < 1 or window >= _MAX_SEQ // 2:
            msg = f"window must be between 1 and {_MAX_SEQ // 2 - 1}, not {window}"
            raise ValueError(msg)
        if not 1 <= shingle <= 16 or min_tokens < 1:
            msg = "shingle must be 1 to 16 characters and min_tokens at least 1"
            raise ValueError(msg)
        self.threshold = threshold
        self.num_perm = num_perm
        self.window = window = 1 << (window - 1).bit_length()  # a power of two: slot = seq & mask
        self._mask = window - 1
        self.min_tokens = min_tokens
        self.shingle = shingle
        self._floor = threshold - 1e-9  # estimates are ratios of small integers
        self._bands = num_perm // ROWS
        self._table_bits = max(4, (2 * window - 1).bit_length())
        self._band_salt = _constants(3, self._bands)
        # The ring of remembered canonical posts: slot = sequence number % window.
        self._seq = 0  # the last sequence number given
        self._ring_seq = np.zeros(window, dtype=np.uint32)  # 0: an empty or dead slot
        self._ring_sig = np.zeros((window, num_perm), dtype=np.uint8)
        self._ring_key = np.zeros(window, dtype=np.uint64)
        self._ring_numbers = np.zeros(window, dtype=np.uint64)
        self._ring_long = np.zeros(window, dtype=bool)
        self._uids: list[str] = [""] * window
        # Buckets: sequence numbers (and, for exact keys, the key), newest wins.
        size = 1 << self._table_bits
        self._band_seq = np.zeros((self._bands, size), dtype=np.uint32)
        self._exact_key = np.zeros(size, dtype=np.uint64)
        self._exact_seq = np.zeros(size, dtype=np.uint32)

    # -- public ------------------------------------------------------------------------------------

    def assign(self, uids: Sequence[str], texts: Sequence[str]) -> list[str | None]:
        """For each post, the uid of its canonical post (an earlier post, possibly of this batch),
        or None when the post is new (canonical itself, or never grouped: see the short-text rule).

        Posts are matched ``CHUNK`` at a time (fewer when they are long), in order: numpy's temporary
        arrays then stay small enough to be reused rather than mapped afresh, which cost more than
        the work on them.
        """
        if len(uids) != len(texts):
            msg = f"{len(uids)} uids for {len(texts)} texts"
            raise ValueError(msg)
        result: list[str | None] = []
        reach = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
        start = 0
        while start < len(uids):
            before = int(reach[start - 1]) if start else 0
            end = min(start + CHUNK, max(start + 1, int(np.searchsorted(reach, before + CHUNK_UNITS, "right"))))
            result.extend(self._assign(uids[start:end], texts[start:end]))
            start = end
        return result

    def _assign(self, uids: Sequence[str], texts: Sequence[str]) -> list[str | None]:
        n = len(uids)
        stripped = _strip(texts)
        long = (stripped.tokens >= self.min_tokens) & (stripped.lengths >= self.shingle)
        keys = stripped.keys(0x5EED)
        short = np.flatnonzero(~long & (keys != 0))
        if len(short):
            tagged = _strip([texts[i] for i in short.tolist()], keep_tags=True)
            # Fewer than three words say too little to call a post a copy ("colorado springs"),
            # unless they are long runs of letters (scripts written without spaces).
            enough = (tagged.tokens >= 3) | (tagged.lengths >= 11 * tagged.tokens - 1)
            keys[short] = np.where(enough, tagged.keys(0xC0FFEE), 0)
        batch = _Batch(n, self.num_perm)
        canonical = batch.canonical
        self._match_exact(keys, batch)
        # Within the batch: the first post with a key leads every later post with the same key.
        open_ = np.flatnonzero((canonical < 0) & (keys != 0))
        _, first, inverse = np.unique(keys[open_], return_index=True, return_inverse=True)
        leader_of = open_[first][inverse]
        follows = leader_of != open_
        select = np.sort(open_[first][long[open_[first]]])
        if len(select):
            batch.sig[select] = _signatures(stripped, select, bins=self.num_perm, shingle=self.shingle)
            batch.numbers[select] = stripped.numbers()[select]
            unmatched = self._match_bands(select, batch)
            self._group_batch(select[unmatched], batch)
        # Followers take their leader's canonical post, or the leader itself.
        followers, leaders = open_[follows], leader_of[follows]
        canonical[followers] = np.where(canonical[leaders] >= 0, canonical[leaders], leaders)
        batch.seq_hit[followers] = batch.seq_hit[leaders]
        result = self._result(uids, canonical)
        self._remember(np.flatnonzero((canonical < 0) & (keys != 0)), keys, long, uids, batch)
        return result

    @property
    def changes(self) -> int:
        """Grows whenever the index remembers or refreshes a post: equal values, equal snapshots."""
        return self._seq

    def dumps(self) -> bytes:
        """A snapshot (msgpack): :meth:`loads` continues exactly where this index is."""
        used = min(self._seq + 1, self.window)  # slots 0..seq (slot 0 stays empty until the ring wraps)
        snapshot = _Snapshot(
            format=_FORMAT,
            threshold=self.threshold,
            num_perm=self.num_perm,
            window=self.window,
            min_tokens=self.min_tokens,
            shingle=self.shingle,
            seq=self._seq,
            ring_seq=self._ring_seq[:used].tobytes(),
            ring_sig=self._ring_sig[:used].tobytes(),
            ring_key=self._ring_key[:used].tobytes(),
            ring_numbers=self._ring_numbers[:used].tobytes(),
            ring_long=self._ring_long[:used].tobytes(),
            uids=self._uids[:used],
            exact_key=self._exact_key.tobytes(),
            exact_seq=self._exact_seq.tobytes(),
        )
        return msgspec.msgpack.encode(snapshot)

    @classmethod
    def loads(cls, data: bytes) -> NearCopyIndex:
        """The index saved by :meth:`dumps`. Band buckets are rebuilt from the remembered posts."""
        snapshot = msgspec.msgpack.decode(data, type=_Snapshot)
        if snapshot.format != _FORMAT:
            msg = f"near-copy snapshot format {snapshot.format} is not supported (expected {_FORMAT})"
            raise ValueError(msg)
        index = cls(
            threshold=snapshot.threshold,
            num_perm=snapshot.num_perm,
            window=snapshot.window,
            min_tokens=snapshot.min_tokens,
            shingle=snapshot.shingle,
        )
        used = len(snapshot.uids)
        index._seq = snapshot.seq
        index._ring_seq[:used] = np.frombuffer(snapshot.ring_seq, dtype=np.uint32)
        index._ring_sig[:used] = np.frombuffer(snapshot.ring_sig, dtype=np.uint8).reshape(used, index.num_perm)
        index._ring_key[:used] = np.frombuffer(snapshot.ring_key, dtype=np.uint64)
        index._ring_numbers[:used] = np.frombuffer(snapshot.ring_numbers, dtype=np.uint64)
        index._ring_long[:used] = np.frombuffer(snapshot.ring_long, dtype=bool)
        index._uids[:used] = snapshot.uids
        index._exact_key[:] = np.frombuffer(snapshot.exact_key, dtype=np.uint64)
        index._exact_seq[:] = np.frombuffer(snapshot.exact_seq, dtype=np.uint32)
        # Rebuilt oldest first. A bucket's newest entry is never a dead slot (a moved post writes its
        # buckets again), and everything older than a forgotten entry is forgotten too, so every
        # bucket finds the same live post as before the snapshot, or none, as before.
        slots = np.flatnonzero(index._ring_long & (index._ring_seq > 0))
        slots = slots[np.argsort(index._ring_seq[slots], kind="stable")]
        index._insert_bands(index._ring_sig[slots].view(np.uint32), index._ring_seq[slots])
        return index

    def __len__(self) -> int:
        """Canonical posts remembered now."""
        return int(np.count_nonzero(self._ring_seq))

    # -- matching ----------------------------------------------------------------------------------

    def _exact_bucket(self, keys: _U64) -> _I64:
        return (keys >> np.uint64(64 - self._table_bits)).astype(np.int64)

    def _band_buckets(self, band_keys: NDArray[np.uint32]) -> _I64:
        mixed = (band_keys ^ self._band_salt) * np.uint64(_GOLDEN)
        return (mixed >> np.uint64(64 - self._table_bits)).astype(np.int64)

    def _match_exact(self, keys: _U64, batch: _Batch) -> None:
        bucket = self._exact_bucket(keys)
        seq = self._exact_seq[bucket]
        live = (seq > 0) & (self._ring_seq[seq & self._mask] == seq)
        hit = np.flatnonzero(live & (keys != 0) & (self._exact_key[bucket] == keys))
        batch.canonical[hit] = len(keys) + (seq[hit] & self._mask)
        batch.seq_hit[hit] = seq[hit]

    def _match_bands(self, select: _I64, batch: _Batch) -> NDArray[np.bool_]:
        """Match the selected posts against the ring; returns which of them found nothing."""
        unmatched = np.ones(len(select), dtype=bool)
        band_keys = np.take(batch.sig, select, axis=0).view(np.uint32)
        found = self._band_seq[np.arange(self._bands), self._band_buckets(band_keys)]
        # Live entries only (a bucket keeps its newest entry, perhaps forgotten since); a bucket
        # shared with another key gives a candidate that shares only that band, and loses below.
        found[(self._ring_seq[found & np.uint32(self._mask)] != found) | (band_keys == _EMPTY_BAND)] = 0
        rows = np.flatnonzero(found.any(axis=1))
        row, seq = _top_candidates(found[rows])
        row = rows[row]
        slot, post = seq & self._mask, select[row]
        similarity = _similarity(np.take(self._ring_sig, slot, axis=0), np.take(batch.sig, post, axis=0))
        ok = (similarity >= self._floor) & (self._ring_numbers[slot] == batch.numbers[post])
        row, seq = _pick_best(row[ok], seq[ok], similarity[ok])
        batch.canonical[select[row]] = len(batch.canonical) + (seq & self._mask)
        batch.seq_hit[select[row]] = seq
        unmatched[row] = False
        return unmatched

    def _group_batch(self, select: _I64, batch: _Batch) -> None:
        """Near-copies among posts of this batch that matched nothing earlier (``select`` in order)."""
        m = len(select)
        if m < 2:
            return
        sig, numbers = np.take(batch.sig, select, axis=0), batch.numbers[select]
        band_keys = sig.view(np.uint32)
        # For every band, the first post of each key: a small table, the earliest post winning a
        # bucket; a post that meets another key in its bucket misses that band only.
        bits = max(8, (4 * m - 1).bit_length())
        mixed = (band_keys ^ self._band_salt) * np.uint64(_GOLDEN)
        bucket = (mixed >> np.uint64(64 - bits)).astype(np.intp)
        bucket += np.arange(0, self._bands << bits, 1 << bits)
        first = np.full(self._bands << bits, m, dtype=np.int32)
        posts = np.repeat(np.arange(m, dtype=np.int32), self._bands).reshape(m, self._bands)
        filled = band_keys != _EMPTY_BAND
        np.minimum.at(first, bucket[filled], posts[filled])
        leader = first[bucket]
        earlier = filled & (leader < posts)
        rows = np.flatnonzero(earlier.any(axis=1))  # in most batches, few posts meet an earlier one
        if len(rows) == 0:
            return
        leader, earlier = leader[rows], earlier[rows]
        leader[~earlier] = m  # the spare row below: no earlier post
        their_keys = np.append(band_keys, band_keys[:1], axis=0)[leader, np.arange(self._bands)]
        leader = np.where(earlier & (their_keys == band_keys[rows]), leader + 1, 0)  # 0: none
        # Parent: the most similar earlier post (then the earliest) that is similar enough.
        row, parent_of = _top_candidates(leader)
        row, parent_of = rows[row], parent_of - 1
        similarity = _similarity(np.take(sig, row, axis=0), np.take(sig, parent_of, axis=0))
        ok = (similarity >= self._floor) & (numbers[row] == numbers[parent_of])
        row, parent_of = _pick_best(row[ok], parent_of[ok], similarity[ok])
        parent = np.full(m, -1, dtype=np.int64)
        parent[row] = parent_of
        # Roots, checked: a chain of copies may drift away from its first post.
        rows = np.arange(m)
        while True:
            root = np.where(parent >= 0, parent, rows)
            while not np.array_equal(deeper := root[root], root):
                root = deeper
            linked = np.flatnonzero(root != rows)
            too_far = linked[
                _similarity(np.take(sig, linked, axis=0), np.take(sig, root[linked], axis=0)) < self._floor
            ]
            if len(too_far) == 0:
                break
            parent[too_far] = -1  # the post starts a group of its own
        batch.canonical[select[linked]] = select[root[linked]]

    def _result(self, uids: Sequence[str], canonical: _I64) -> list[str | None]:
        n = len(uids)
        ring_uids = self._uids
        result: list[str | None] = [None] * n
        grouped = np.flatnonzero(canonical >= 0)
        for i, target in zip(grouped.tolist(), canonical[grouped].tolist(), strict=True):
            uid = uids[target] if target < n else ring_uids[target - n]
            result[i] = None if uid == uids[i] else uid
        return result

    # -- remembering -------------------------------------------------------------------------------

    def _remember(self, new: _I64, keys: _U64, long: NDArray[np.bool_], uids: Sequence[str], batch: _Batch) -> None:
        """Give new canonical posts ring slots, bring back old ones that were copied, index copies' keys."""
        n = len(keys)
        window = self.window
        canonical, seq_hit = batch.canonical, batch.seq_hit
        # Ring posts copied in this batch and older than half the window move to the front.
        hit = _unique(seq_hit[seq_hit > 0])
        stale = hit[hit <= self._seq - window // 2]
        count = len(new) + len(stale)
        if self._seq + count > _MAX_SEQ:
            msg = "near-copy index sequence numbers are exhausted; start a new index"
            raise OverflowError(msg)
        seqs = np.arange(self._seq + 1, self._seq + count + 1, dtype=np.int64)
        self._seq += count
        old = stale & self._mask
        entry_sig = np.concatenate([batch.sig[new], self._ring_sig[old]])
        entry_key = np.concatenate([keys[new], self._ring_key[old]])
        entry_numbers = np.concatenate([batch.numbers[new], self._ring_numbers[old]])
        entry_long = np.concatenate([long[new], self._ring_long[old]])
        entry_uid = [uids[i] for i in new.tolist()] + [self._uids[slot] for slot in old.tolist()]
        self._ring_seq[old] = 0  # the old slot dies; its buckets are written again below
        # The sequence number each grouped post points to, after the moves.
        points = seq_hit.copy()
        if len(stale):
            moved = np.minimum(np.searchsorted(stale, points), len(stale) - 1)
            is_moved = stale[moved] == points
            points[is_moved] = seqs[len(new) + moved[is_moved]]
        in_batch = np.flatnonzero((canonical >= 0) & (canonical < n))
        new_seq = np.zeros(n, dtype=np.int64)
        new_seq[new] = seqs[: len(new)]
        points[in_batch] = new_seq[canonical[in_batch]]
        # More than a window of entries in one batch: only the newest fit.
        keep = slice(max(0, count - window), count)
        kept_seqs, kept_long = seqs[keep], entry_long[keep]
        slot = kept_seqs & self._mask
        self._ring_seq[slot] = kept_seqs
        self._ring_sig[slot] = entry_sig[keep]
        self._ring_key[slot] = entry_key[keep]
        self._ring_numbers[slot] = entry_numbers[keep]
        self._ring_long[slot] = kept_long
        for position, uid in zip(slot.tolist(), entry_uid[keep], strict=True):
            self._uids[position] = uid
        self._insert_bands(entry_sig[keep][kept_long].view(np.uint32), kept_seqs[kept_long])
        # Exact keys: every new or moved canonical post, and every copy (pointing to its canonical).
        copies = np.flatnonzero(canonical >= 0)
        all_keys = np.concatenate([entry_key, keys[copies]])
        all_seqs = np.concatenate([seqs, points[copies]])
        live = all_seqs > self._seq - window
        self._insert_exact(all_keys[live], all_seqs[live])

    def _insert_bands(self, band_keys: NDArray[np.uint32], seqs: NDArray[np.integer]) -> None:
        """Newer entries replace older ones in a bucket (sequence numbers only grow)."""
        if len(seqs) == 0:
            return
        flat = self._band_buckets(band_keys) + np.arange(self._bands) * (1 << self._table_bits)
        values = np.repeat(np.asarray(seqs, dtype=np.uint32), self._bands).reshape(flat.shape)
        filled = band_keys != _EMPTY_BAND  # four empty bins would put every short post in one bucket
        np.maximum.at(self._band_seq.reshape(-1), flat[filled], values[filled])

    def _insert_exact(self, keys: _U64, seqs: _I64) -> None:
        if len(keys) == 0:
            return
        bucket = self._exact_bucket(keys)
        last = _last_per_index(bucket)
        self._exact_key[bucket[last]] = keys[last]
        self._exact_seq[bucket[last]] = seqs[last].astype(np.uint32)
