"""Text normalisation for matching and search.

The readable text is kept as posted; this module makes the *normalised* form that rules and the
search index see, so that the same word matches however it was typed:

* Unicode NFKC (Arabic presentation forms become plain letters, full-width Latin becomes ASCII).
  NFKC runs *before* the letter folds, so a letter typed as base + combining hamza or madda (ا + ٓ)
  is composed first and folds exactly like the precomposed letter (آ).
* Arabic and Persian letter variants are folded: ك→ک, ي/ى→ی, ة/ۀ→ه, أ/إ/ٱ→ا, ؤ→و; Arabic diacritics
  (harakat, superscript alef) and the tatweel stretch ـ are removed. آ is kept: Persian writes it
  as a letter of its own (آزادی).
* Zero-width characters, bidi controls and emoji variation selectors (U+FE0E/U+FE0F, so ❤️ and ❤
  match) are removed. The zero-width non-joiner (ZWNJ) that Persian writes inside words (می‌روم)
  is dropped rather than turned into a space, so the word stays one token and matches the common
  spelling without it (میروم). The zero-width *joiner* is removed too, except between two emoji:
  there it is what makes 👨‍👩‍👧 one family rather than three people, and a rule written for the
  sequence should not match the separate emoji.
* Persian (۰-۹) and Arabic-Indic (٠-٩) digits become ASCII digits.
* Case folding, HTML entities decoded (tweets arrive with ``&amp;``; double-escaped ``&amp;amp;``
  is decoded all the way), links removed (they are kept as expanded URLs on the post), mentions
  kept as ``@handle``, whitespace collapsed to single spaces and trimmed.

``normalise`` is idempotent: normalising a normalised text changes nothing. NFKC, case folding
and the letter folds can each expose work for another (a presentation form decomposes to Arabic
kaf; case folding can decompose ǰ; NFKC turns ＆ａｍｐ； into an entity), so the steps are
repeated until nothing changes. Ordinary text is stable after one round, and a cheap check
proves it, so the repeat costs nothing in practice. ASCII text takes a short path.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

_ARABIC_DIACRITICS = [
    *range(0x0610, 0x061B),  # Quranic honorifics and small signs
    *range(0x064B, 0x0660),  # fathatan .. wavy hamza below
    0x0670,  # superscript alef
    *range(0x06D6, 0x06DD),  # small high ligatures
    *range(0x06DF, 0x06E5),
    0x06E7,
    0x06E8,
    *range(0x06EA, 0x06EE),
    0x0640,  # tatweel (kashida)
]
_ZERO_WIDTH = [
    0x200B,  # zero width space
    0x200C,  # zero width non-joiner: Persian intra-word, joined (see module docstring)
    0x200E,  # left-to-right mark
    0x200F,  # right-to-left mark
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2066, 0x206A),  # bidi isolates
    0x061C,  # Arabic letter mark (a bidi control)
    0x2060,  # word joiner
    0xFEFF,  # byte order mark / zero width no-break space
    0x00AD,  # soft hyphen
    0x034F,  # combining grapheme joiner
    0x180E,  # Mongolian vowel separator
    0xFE0E,  # variation selector-15 (text presentation)
    0xFE0F,  # variation selector-16 (emoji presentation)
]
ZWJ = "\u200d"  # removed except between emoji, see _LONE_ZWJ_RE
_LETTER_FOLDS = {
    "ك": "ک",  # Arabic kaf -> Persian keheh
    "ي": "ی",  # Arabic yeh -> Farsi yeh
    "ى": "ی",  # alef maksura
    "ې": "ی",
    "ۍ": "ی",
    "ة": "ه",  # teh marbuta
    "ۀ": "ه",  # heh with yeh above
    "ە": "ه",
    "أ": "ا",
    "إ": "ا",
    "ٱ": "ا",
    "ؤ": "و",
    "٫": ".",  # Arabic decimal separator
    "٬": ",",  # Arabic thousands separator
    "،": ",",
    "؛": ";",
    "؟": "?",
}


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {cp: None for cp in _ARABIC_DIACRITICS + _ZERO_WIDTH}
    for source, target in _LETTER_FOLDS.items():
        table[ord(source)] = target
    for digit in range(10):
        table[0x06F0 + digit] = str(digit)  # Persian digits
        table[0x0660 + digit] = str(digit)  # Arabic-Indic digits
    return table


def _char_class(codepoints: list[int]) -> str:
    """A regex character class body for the code points, as ranges."""
    parts: list[str] = []
    ordered = sorted(set(codepoints))
    start = previous = ordered[0]
    for cp in [*ordered[1:], -1]:
        if cp == previous + 1:
            previous = cp
            continue
        parts.append(
            re.escape(chr(start)) if start == previous else f"{re.escape(chr(start))}-{re.escape(chr(previous))}"
        )
        start = previous = cp
    return "".join(parts)


FOLD_TABLE = _build_table()
_FOLDS = {chr(cp): target or "" for cp, target in FOLD_TABLE.items()}
# Any character the table changes. str.translate looks every character up in a dict (~80 ns
# each), so the few distinct foldable characters of a post are found with a regex and replaced
# with str.replace instead: several times faster on Persian and Arabic text.
_FOLDABLE_RE = re.compile(f"[{_char_class(list(FOLD_TABLE))}]")

# Pictographs a ZWJ may join (emoji ZWJ sequences: 👨‍👩‍👧, 🏳️‍🌈, 🧑🏽‍🚀; skin tones are in the
# U+1F3FB-1F3FF part of the last range). Variation selectors are removed before this is checked.
_EMOJI = "\u00a9\u00ae\u2194-\u21ff\u2300-\u23ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff\U0001f000-\U0001faff"
_LONE_ZWJ_RE = re.compile(rf"\u200d(?:(?<![{_EMOJI}]\u200d)|(?![{_EMOJI}]))")  # literal first: fast scan
_MAX_ROUNDS = 8  # a fixed point is reached in 1-2 rounds even for adversarial text

# Lookbehinds come after the first literal so the regex engine can scan for it quickly.
_URL = r"(?:https?://|www\.(?<![\w.@\-]www\.)(?=[^\W_]))[^\s<>\"]+"
URL_RE = re.compile(_URL, re.IGNORECASE)
_FOLDED_URL_RE = re.compile(_URL)  # for case-folded text: case-sensitive matching is 3x faster
_URL_TRAILING = ".,;:!?'\"`*،؛؟…«»“”‘’。、！，：；？"
_URL_CLOSERS = {")": "(", "]": "[", "}": "{"}
# Twitter/X handles, and Mastodon's @user@instance.social (the domain must have a dot).
MENTION_RE = re.compile(
    r"[@＠](?<![\w@＠][@＠])([A-Za-z0-9_]+(?:[.\-]+[A-Za-z0-9_]+)*(?:@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)?)"
)
_HASHTAG_JOINERS = "\u200c\u200d"  # Persian tags are written with ZWNJ (#می‌روم)
_HASHTAG_TRAILING = "_" + _HASHTAG_JOINERS
# What html.unescape would replace (its own pattern): text without a match is left as it is.
_CHARREF_RE = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")


def _unescape(text: str) -> str:
    """HTML entities decoded until none is left (``&amp;amp;`` arrives from double escaping)."""
    while _CHARREF_RE.search(text) is not None:
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _is_folded(text: str) -> bool:
    """True when another fold round is certain to change nothing (``text`` is NFKC already)."""
    if _FOLDABLE_RE.search(text) is not None:
        return False
    if ZWJ in text and _LONE_ZWJ_RE.search(text) is not None:
        return False
    return text.casefold() == text


def fold(text: str) -> str:
    """Letter folding, zero-width removal, digits and case, without touching links or entities."""
    if text.isascii():
        return text.lower()
    for _ in range(_MAX_ROUNDS):
        normal = unicodedata.normalize("NFKC", text)
        # normalize() returns its argument itself when the text is already normalised.
        changed = normal is not text
        found = _FOLDABLE_RE.findall(normal)
        for char in set(found):
            normal = normal.replace(char, _FOLDS[char])
        if ZWJ in normal:
            normal = _LONE_ZWJ_RE.sub("", normal)
        cased = normal.casefold()
        # Case folding can leave a decomposed letter (ǰ -> j + caron), and removing a zero-width
        # character can let a mark compose with the letter before it: normalise again.
        folded = unicodedata.normalize("NFKC", cased)
        if folded is not cased:
            changed = True
        # Unchanged by both normalisations, the result is stable: the folds, the ZWJ rule and
        # case folding cannot undo or redo one another's work, and case folding is idempotent.
        if not changed or _is_folded(folded):
            return folded
        text = folded
    return text


_NORMALISED: dict[str, str] = {}
_NORMALISED_LIMIT = 8_192  # entries, each a text of at most _CACHED_CHARS characters
_CACHED_CHARS = 400  # a tweet, or a retweet's "RT @handle: " and its text


def normalise(text: str) -> str:
    """The normalised form of a post's text used for matching and indexing.

    Results are cached (a bounded memo): crisis streams repeat texts a great deal (every retweet
    of a post has the same text), and folding Persian or Arabic text costs a few microseconds.
    """
    cached = _NORMALISED.get(text)
    if cached is not None:
        return cached
    result = _normalise(text)
    if len(text) <= _CACHED_CHARS:
        if len(_NORMALISED) >= _NORMALISED_LIMIT:
            _NORMALISED.clear()
        _NORMALISED[text] = result
    return result


def _normalise(text: str) -> str:
    for _ in range(_MAX_ROUNDS):
        if "&" in text:
            text = _unescape(text)
        text = text.lower() if text.isascii() else fold(text)
        # Case folding or NFKC can make a new entity (&Amp; -> &amp;, ＆ｌｔ； -> &lt;).
        if "&" not in text or _CHARREF_RE.search(text) is None or html.unescape(text) == text:
            break
    if "http" in text or "www." in text:  # the text is case-folded: one check is enough
        text = _FOLDED_URL_RE.sub(" ", text)
    return collapse_spaces(text)


def collapse_spaces(text: str) -> str:
    """Whitespace runs as single spaces, trimmed: ``" ".join(text.split())``, quicker when there
    is nothing to do (a printable text holds no whitespace but the ASCII space)."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def normalise_tag(tag: str) -> str:
    """A hashtag or handle for comparison: folded, without the leading # or @."""
    return " ".join(fold(tag.lstrip("#＃@＠")).split())


@functools.cache
def _hashtag_re() -> re.Pattern[str]:
    """Hashtags: # then letters, digits, underscore and combining marks in any script, ZWNJ/ZWJ
    inside, at least one of them not a digit or underscore (#1 is not a tag on any platform).

    Python's ``\\w`` does not include combining marks (Arabic harakat, Indic vowel signs), so they
    are listed from the Unicode database; built on first use to keep import fast.
    """
    marks = [cp for cp in range(0x0300, 0x20000) if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me")]
    tag_char = rf"[\w{_char_class(marks)}{_HASHTAG_JOINERS}]"
    return re.compile(rf"[#＃](?<![\w&#＃][#＃])((?={tag_char}*[^\W\d_]){tag_char}+)")


def _url_spans(text: str) -> list[tuple[int, int]]:
    """Where the links are. Matching the lower-cased text case-sensitively is 2-3x faster than
    ``URL_RE``; lower-casing keeps positions unless it lengthened the text (İ -> i̇)."""
    if "://" not in text and "www." not in text and "WWW." not in text and "ww." not in text.lower():
        return []
    lowered = text.lower()
    if len(lowered) == len(text):
        return [match.span() for match in _FOLDED_URL_RE.finditer(lowered)]
    return [match.span() for match in URL_RE.finditer(text)]


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def extract_hashtags(text: str) -> tuple[str, ...]:
    """Hashtags written in the text, in order, without '#', as written (not folded).

    Not inside links (``https://example.com/#section``) nor HTML entities (``&#39;``).
    """
    if "#" not in text and "＃" not in text:
        return ()
    spans = _url_spans(text)
    tags: dict[str, None] = {}
    for match in _hashtag_re().finditer(text):
        if spans and _inside(match.start(), spans):
            continue
        tag = match.group(1).rstrip(_HASHTAG_TRAILING) or match.group(1)
        tags[tag] = None
    return tuple(tags)


def extract_mentions(text: str) -> tuple[str, ...]:
    """@handles in the text, in order, without '@' (``user`` or Mastodon's ``user@instance.social``).

    Not inside links (``https://mastodon.social/@user``) nor e-mail addresses.
    """
    if "@" not in text and "＠" not in text:
        return ()
    spans = _url_spans(text)
    return tuple(
        dict.fromkeys(m.group(1) for m in MENTION_RE.finditer(text) if not (spans and _inside(m.start(), spans)))
    )


def _trim_url(url: str) -> str:
    """A link without the punctuation that follows it in prose; balanced brackets are kept
    (``https://en.wikipedia.org/wiki/Tehran_(disambiguation)``)."""
    while url:
        last = url[-1]
        unbalanced = last in _URL_CLOSERS and url.count(_URL_CLOSERS[last]) < url.count(last)
        if last in _URL_TRAILING or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def extract_urls(text: str) -> tuple[str, ...]:
    """Links written in the text, in order, without trailing punctuation."""
    urls: dict[str, None] = {}
    for start, end in _url_spans(text):
        url = _trim_url(text[start:end])
        if not url.lower().endswith(("://", "www.")):
            urls[url] = None
    return tuple(urls)


def clean_text(text: str) -> str:
    """Readable text: HTML entities decoded, line endings unified. Nothing else changes."""
    if "&" in text:
        text = html.unescape(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
