"""Text normalisation for matching and search.

The readable text is kept as posted; this module makes the *normalised* form that rules and the
search index see, so that the same word matches however it was typed:

* Unicode NFKC (Arabic presentation forms become plain letters, full-width Latin becomes ASCII).
* Arabic and Persian letter variants are folded: ك→ک, ي/ى→ی, ة/ۀ→ه, أ/إ/ٱ→ا, ؤ→و; Arabic diacritics
  (harakat, superscript alef) and the tatweel stretch ـ are removed.
* Zero-width characters are removed. The zero-width non-joiner (ZWNJ) that Persian writes inside
  words (می‌روم) is dropped rather than turned into a space, so the word stays one token and matches
  the common spelling without it (میروم).
* Persian (۰-۹) and Arabic-Indic (٠-٩) digits become ASCII digits.
* Case folding, HTML entities decoded (tweets arrive with ``&amp;``), links removed (they are kept
  as expanded URLs on the post), mentions kept as ``@handle``, whitespace collapsed.

``normalise`` is idempotent: normalising a normalised text changes nothing.
"""

from __future__ import annotations

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
    0x200D,  # zero width joiner (outside emoji sequences it only shapes letters)
    0x200E,  # left-to-right mark
    0x200F,  # right-to-left mark
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2066, 0x206A),  # bidi isolates
    0x2060,  # word joiner
    0xFEFF,  # byte order mark / zero width no-break space
    0x00AD,  # soft hyphen
    0x034F,  # combining grapheme joiner
    0x180E,  # Mongolian vowel separator
]
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


FOLD_TABLE = _build_table()

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.\-]*(?:@[A-Za-z0-9.\-]+)?)")
# A hashtag is # followed by letters, marks, digits or underscore in any script. ZWNJ is allowed
# inside because Persian tags are written with it (#زن_زندگی_آزادی, #می‌روم).
HASHTAG_RE = re.compile(r"(?<![\w&])[#＃]((?:[^\W]|[\u200c\u0610-\u061a\u064b-\u065f\u0670])+)")
_SPACE_RE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Letter folding, zero-width removal, digits and case, without touching links or entities."""
    folded = unicodedata.normalize("NFKC", text.translate(FOLD_TABLE)).casefold()
    # NFKC and case folding can reveal characters that fold again (e.g. presentation forms that
    # decompose to Arabic kaf); repeat until stable so the function is idempotent.
    for _ in range(4):
        again = unicodedata.normalize("NFKC", folded.translate(FOLD_TABLE)).casefold()
        if again == folded:
            break
        folded = again
    return folded


def normalise(text: str) -> str:
    """The normalised form of a post's text used for matching and indexing."""
    if "&" in text:
        text = html.unescape(text)
    if "http" in text or "www." in text or "HTTP" in text or "WWW." in text:
        text = URL_RE.sub(" ", text)
    if text.isascii():
        text = text.lower()
    else:
        text = fold(text)
    return _SPACE_RE.sub(" ", text).strip()


def normalise_tag(tag: str) -> str:
    """A hashtag or handle for comparison: folded, without the leading # or @."""
    return fold(tag.lstrip("#＃@")).strip()


def extract_hashtags(text: str) -> tuple[str, ...]:
    """Hashtags written in the text, in order, without '#', as written (not folded)."""
    return tuple(dict.fromkeys(m.group(1).rstrip("_") or m.group(1) for m in HASHTAG_RE.finditer(text)))


def extract_mentions(text: str) -> tuple[str, ...]:
    """@handles in the text, in order, without '@'."""
    return tuple(dict.fromkeys(m.group(1).rstrip(".") for m in MENTION_RE.finditer(text)))


def extract_urls(text: str) -> tuple[str, ...]:
    """Links written in the text, in order."""
    return tuple(dict.fromkeys(m.group(0).rstrip(".,;:!?)]}'\"") for m in URL_RE.finditer(text)))


def clean_text(text: str) -> str:
    """Readable text: HTML entities decoded, line endings unified. Nothing else changes."""
    if "&" in text:
        text = html.unescape(text)
    return text.replace("\r\n", "\n")
