"""Train the language identifier's weights from the development data in ../shared/data.

    .venv/bin/python scripts/train_language.py [--data ../shared/data] [--out src/groundspeed/understand/data/language.npz]

Labelled languages and where they come from (only weights are written, never text):

* en: HumAID and IDRISI (EN) - English-only collections; es/pt/it/fr/tl/id (and en): the Twitter ``lang``
  tag of the rehydrated CrisisLexT26 streams and the language columns of CrisisNLP (volunteers, LREC 2016).
  These labels are the platform's own guesses, so agreement with them is what the benchmark can measure.
* ar: Kawarith and IDRISI (AR).
* fa: the Persian Telegram channel (2025-26), the ELIRN98 topic tweets, ParsOffensive comments and the
  ParsTwiNER sentences. The #MahsaAmini tweets are held out for the benchmark.
* fa-Latn (Finglish): no Finglish corpus exists in the data (the Persian tweets hold none), so Finglish is
  made by transliterating the Persian training posts word by word: a hand-written table of common words with
  their usual Finglish spellings, the elektito/finglish word list (MIT) read backwards, and letter rules with
  random short vowels (Persian script does not write them; Finglish writers add them inconsistently).

Held out (never trained on), by event or source: see ``TEST_EVENTS`` and ``benchmarks/language.py``.
Deterministic: fixed seed, sorted inputs.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groundspeed.text import normalise
from groundspeed.understand.language import ARABIC, FINGLISH, LATIN, _encode, clean, hashed_ngrams

SEED = 20260501
BITS = 16
ALPHA = 0.1  # additive smoothing of n-gram counts
MAX_PER_LANGUAGE = 40_000  # training texts per language (before the raw/normalised doubling)
LANGUAGES = ("en", "es", "pt", "it", "fr", "tl", "id", FINGLISH, "fa", "ar")
TEST_EVENTS = frozenset(
    {
        # English (HumAID and IDRISI share events: held out from both)
        "cyclone_idai_2019",
        "kaikoura_earthquake_2016",
        "srilanka_floods_2017",
        # Arabic (Kawarith and IDRISI)
        "Jordan_floods",
        "jordan_floods_2018",
        # CrisisLexT26 streams (Twitter lang tags)
        "2012_Costa_Rica_earthquake",
        "2013_Savar_building_collapse",
        "2012_Typhoon_Pablo",
        "2013_Russia_meteor",
        # CrisisNLP volunteers
        "Landslides_Worldwide_en",  # en, plus es/fr/it posts
        # Persian: the #MahsaAmini tweets (and Finglish made from them)
        "mahsaamini_2022",
    }
)
_PLATFORM_TAGS = {"en": "en", "es": "es", "pt": "pt", "it": "it", "fr": "fr", "tl": "tl", "in": "id"}


@dataclass(frozen=True, slots=True)
class Example:
    lang: str
    source: str
    event: str
    text: str
    platform_lang: str | None = None

    @property
    def held_out(self) -> bool:
        return self.event in TEST_EVENTS


def _csv(path: Path) -> Iterator[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def _labelled(data: Path) -> Iterator[Example]:
    for row in _csv(data / "humaid/labeled.csv"):
        yield Example("en", "humaid", row["event"], row["text"])
    for row in _csv(data / "idrisi/mentions_gold.csv"):
        yield Example(row["lang"].lower(), "idrisi", row["event"], row["text"])
    for row in _csv(data / "kawarith/labeled.csv"):
        yield Example("ar", "kawarith", row["event"], row["text"])
    for row in _csv(data / "crisislex_t26_streams/streams_slim.csv"):
        if row["lang"] in _PLATFORM_TAGS:
            yield Example(_PLATFORM_TAGS[row["lang"]], "t26_streams", row["event"], row["text"], row["lang"])
    for row in _csv(data / "crisisnlp/volunteers.csv"):
        yield Example(row["tweet_language"], "crisisnlp_volunteers", row["event"], row["tweet_text"])
    for row in _csv(data / "crisisnlp/lrec2016.csv"):
        yield Example(row["language"], "crisisnlp_lrec2016", row["event"], row["text"])


def persian(data: Path) -> Iterator[Example]:
    folder = data / "persian"
    with (folder / "mahsaamini_baraye_tweets/baraye_tweets_merged.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            yield Example("fa", "mahsaamini_baraye_tweets", "mahsaamini_2022", json.loads(line)["Text"] or "")
    for row in _csv(folder / "sut_tw_telegram_2025_2026/all_cleaned.csv"):
        yield Example("fa", "sut_tw_telegram", "telegram_2025", row["cleaned_text"])
    for row in _csv(folder / "persian_tweets_topic_elirn98/tweets.csv"):
        yield Example("fa", "elirn98", "elirn98", row["tweet"])
    for row in _csv(folder / "parsoffensive_instagram/ParsOffensive.csv"):
        yield Example("fa", "parsoffensive", "parsoffensive", row["comment"])
    for name in ("train.txt", "dev.txt"):
        words: list[str] = []
        for line in [*(folder / "parstwiner" / name).read_text(encoding="utf-8").splitlines(), ""]:
            if line.strip():
                words.append(line.split("\t")[0])
            elif words:
                yield Example("fa", "parstwiner", "parstwiner", " ".join(words))
                words = []


# --- Finglish ------------------------------------------------------------------------------------------

# Common Persian words and how people write them in Latin letters (hand-written; several spellings each).
_COMMON = """
و:va,o به:be,b از:az در:dar,tu,too که:ke,keh,k این:in آن:an,oon,un اون:oon,un را:ra,ro رو:ro,roo با:ba
برای:baraye,barayeh,vase واسه:vase,vaseh من:man تو:to,too ما:ma شما:shoma او:oo,u اونا:oona,una
است:ast,e هست:hast,hastesh نیست:nist بود:bood,bud شد:shod,shd هم:ham یه:ye,yeh یک:yek چی:chi,chie
چرا:chera,chra کجا:koja,kja الان:alan,alan امروز:emruz,emrooz دیروز:diruz,dirooz فردا:farda شب:shab
خیابان:khiaban,khiyaban خیابون:khiaboon,khiabun مردم:mardom زن:zan زندگی:zendegi,zendegy آزادی:azadi
ایران:iran تهران:tehran,tehroon خیلی:kheili,kheyli,khili خوب:khoob,khub بد:bad دارم:daram داره:dare,dareh
میشه:mishe,misheh نمیشه:nemishe کردن:kardan کرد:kard کنید:konid,konin اینجا:inja اونجا:oonja,unja
همه:hame,hameh ولی:vali اگه:age,ageh اگر:agar تظاهرات:tazahorat اعتراض:eteraz,e'teraz پلیس:police,polis
نیروی:niruye,nirooye گاز:gaz اشک:ashk آور:avar شلیک:shelik تیر:tir کشته:koshte,koshteh زخمی:zakhmi
بازداشت:bazdasht اینترنت:internet,net قطع:ghat,qat,qate برق:bargh,barq آب:ab,aab سپاه:sepah بسیج:basij
دانشگاه:daneshgah دانشجو:daneshju,daneshjoo دانشجوها:daneshjooha,daneshjuha مدرسه:madrese,madreseh
جمهوری:jomhouri,jomhuri اسلامی:eslami رژیم:rezhim,regime مرگ:marg دیکتاتور:dictator جوانان:javanan
خون:khoon,khun شهر:shahr میدان:meydan,midan میدون:midoon,meydoon ساعت:saat,sa'at حالا:hala هنوز:hanooz,hanuz
دیگه:dige,digeh نه:na,nah آره:are,areh بله:bale,baleh سلام:salam مرسی:merci,mersi ممنون:mamnoon,mamnun
چطوری:chetori,chetory خوبی:khubi,khoobi خوبم:khubam,khoobam لطفا:lotfan کمک:komak جان:jan,joon عزیز:aziz
خدا:khoda بچه:bache,bacheh ها:ha خودم:khodam میخوام:mikham,mikhaam میدونم:midunam,midoonam
نمیدونم:nemidunam,nemidoonam بریم:berim اومدن:oomadan,umadan رفتن:raftan,raftand گفت:goft گفتن:goftan
دیدم:didam چه:che,cheh چیه:chie,chiye کی:ki کسی:kasi هیچ:hich باید:bayad,baiad نباید:nabayad میکنه:mikone
نمیکنه:nemikone میکنن:mikonan میکنم:mikonam شده:shode,shodeh بودن:boodan,budan داریم:darim دارن:daran
کن:kon بکن:bokon برو:boro بیا:bia,biya ببین:bebin میبینم:mibinam خبر:khabar اخبار:akhbar فیلم:film
ویدیو:video عکس:aks صدا:seda گوش:goosh,gush حرف:harf بگو:begoo,begu میگه:mige,migeh میگن:migan
تلویزیون:televizion,tv دولت:dolat,dowlat حکومت:hokumat,hokoomat آخوند:akhoond,akhund رهبر:rahbar
مهسا:mahsa امینی:amini کشور:keshvar وطن:vatan انقلاب:enghelab,enqelab اعتصاب:etesab,e'tesab بازار:bazar
کارگر:kargar کارگران:kargaran نفت:naft زندان:zendan اوین:evin شعار:shoar,sho'ar همدیگه:hamdige
پیش:pish پس:pas بعد:bad,ba'd قبل:ghabl,qabl روز:rooz,ruz روزها:roozha,ruza امشب:emshab دیشب:dishab
ساعتها:saatha نفر:nafar نفرات:nafarat زیاد:ziad,ziyad کم:kam بیشتر:bishtar خیلیا:kheilia,khilia
مامان:maman بابا:baba داداش:dadash آبجی:abji رفیق:rafigh,rafiq دوست:doost,dust دوستان:doostan
""".split()  # noqa: SIM905
_COMMON_WORDS: dict[str, list[str]] = {
    word: spellings.split(",") for word, spellings in (e.split(":") for e in _COMMON)
}
_LETTERS = {
    "آ": "a", "ا": "a", "أ": "a", "إ": "e", "ب": "b", "پ": "p", "ت": "t", "ث": "s", "ج": "j", "چ": "ch",
    "ح": "h", "خ": "kh", "د": "d", "ذ": "z", "ر": "r", "ز": "z", "ژ": "zh", "س": "s", "ش": "sh", "ص": "s",
    "ض": "z", "ط": "t", "ظ": "z", "ع": "'", "غ": "gh", "ف": "f", "ق": "gh", "ک": "k", "ك": "k", "گ": "g",
    "ل": "l", "م": "m", "ن": "n", "و": "v", "ه": "h", "ی": "y", "ي": "y", "ئ": "y", "ء": "", "ة": "e", "ؤ": "o",
}  # fmt: skip
_VOWELS = set("aeiou")


def _romanise_word(word: str, dictionary: dict[str, list[str]], rng: random.Random) -> str:
    """One Persian word in Latin letters, as a Finglish writer might spell it."""
    bare = word.replace("\u200c", "")
    if bare in dictionary:
        return rng.choice(dictionary[bare])
    if bare.startswith("می") and bare[2:] in dictionary and len(bare) > 3:
        return "mi" + rng.choice(dictionary[bare[2:]])
    out: list[str] = []
    for index, char in enumerate(bare):
        last = index == len(bare) - 1
        if char not in _LETTERS:
            return word  # not a Persian word (digits, Latin, emoji): as it is
        if char == "و" and index > 0:
            piece = rng.choice(["o", "oo", "u", "v"]) if not last else rng.choice(["o", "oo", "u"])
        elif char == "ی" and index > 0:
            piece = rng.choice(["i", "i", "y", "ey"]) if not last else rng.choice(["i", "i", "y"])
        elif char == "ه" and last and index > 0:
            piece = rng.choice(["e", "e", "eh"])
        elif char == "ا" and index == 0:
            piece = rng.choice(["a", "e", "a"])
        else:
            piece = _LETTERS[char]
        if out and piece and out[-1][-1:] not in _VOWELS and piece[0] not in _VOWELS and rng.random() < 0.6:
            out.append(rng.choice("aaaeeo"))  # the short vowel Persian script leaves out
        out.append(piece)
    return "".join(out)


def finglish_dictionary(data: Path) -> dict[str, list[str]]:
    """Persian word -> Finglish spellings: elektito/finglish (MIT) read backwards, then the common words."""
    dictionary: dict[str, list[str]] = {}
    for line in (data / "persian/finglish_elektito/f2p-dict.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            dictionary.setdefault(parts[1].replace("\u200c", ""), []).append(parts[0])
    for word, spellings in _COMMON_WORDS.items():
        dictionary[word] = spellings
    return dictionary


_PERSIAN_WORD_RE = re.compile("[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc\u200c]+")


def romanise(text: str, dictionary: dict[str, list[str]], rng: random.Random) -> str:
    """A Persian post as Finglish (word by word; punctuation, mentions, links and emoji kept)."""
    return _PERSIAN_WORD_RE.sub(lambda match: _romanise_word(match.group(0), dictionary, rng), text)


def corpus(data: Path) -> list[Example]:
    """Every labelled example, Finglish included, in a fixed order."""
    examples = [e for e in _labelled(data) if e.lang in LANGUAGES]
    persian_examples = list(persian(data))
    examples.extend(persian_examples)
    dictionary = finglish_dictionary(data)
    rng = random.Random(SEED)
    for example in persian_examples:
        if rng.random() < 0.4:
            text = romanise(example.text, dictionary, rng)
            examples.append(Example(FINGLISH, "finglish_from_" + example.source, example.event, text))
    return examples


# --- training ------------------------------------------------------------------------------------------


def _counts(texts: list[str], n_buckets: int) -> np.ndarray:
    counts = np.zeros(n_buckets + 1, dtype=np.float64)
    for start in range(0, len(texts), 5_000):
        codepoints, ends = _encode(texts[start : start + 5_000])
        owner_ends = np.repeat(ends, np.diff(ends, prepend=0))
        for buckets in hashed_ngrams(codepoints, owner_ends, BITS):
            counts += np.bincount(buckets, minlength=n_buckets + 1)
    return counts[:n_buckets]


def fit(by_language: dict[str, list[str]]) -> np.ndarray:
    n_buckets = 1 << BITS
    logp = np.zeros((n_buckets, len(LANGUAGES)), dtype=np.float64)
    for column, lang in enumerate(LANGUAGES):
        counts = _counts(by_language[lang], n_buckets)
        logp[:, column] = np.log((counts + ALPHA) / (counts.sum() + ALPHA * n_buckets))
    return logp - logp.mean(axis=1, keepdims=True)  # a constant per row changes no probability


def training_texts(examples: list[Example], rng: random.Random) -> dict[str, list[str]]:
    """Cleaned texts per language, deduplicated, capped, each in raw and normalised form."""
    by_language: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        seen = sorted({clean(e.text) for e in examples if e.lang == lang} - {""})
        rng.shuffle(seen)
        by_language[lang] = seen[:MAX_PER_LANGUAGE]
    for lang, texts in by_language.items():
        folded = [clean(normalise(t)) for t in texts]
        by_language[lang] = texts + [f for f, t in zip(folded, texts, strict=True) if f != t]
    return by_language


def _temperature(weights: np.ndarray, validation: list[tuple[str, int]]) -> float:
    """The divisor of the summed log-probabilities that minimises log-loss on validation texts."""
    from groundspeed.understand.language import LanguageModel

    model = LanguageModel(
        languages=LANGUAGES,
        scripts=tuple(ARABIC if lang in ("fa", "ar") else LATIN for lang in LANGUAGES),
        weights=np.vstack([weights, np.zeros((1, len(LANGUAGES)))]).astype(np.float32),
        bias=np.zeros(len(LANGUAGES), dtype=np.float32),
        temperature=1.0,
        bits=BITS,
    )
    texts = [t for t, _ in validation]
    labels = np.array([y for _, y in validation])
    codepoints, ends = _encode(texts)
    scores = model.scores(codepoints, ends)
    script = np.array(model.scripts)
    best, best_loss = 1.0, float("inf")
    for temperature in np.geomspace(1, 200, 60):
        scaled = scores / temperature
        scaled = np.where(script[None, :] == script[labels][:, None], scaled, -np.inf)
        scaled -= scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = -float(log_probs[np.arange(len(labels)), labels].mean())
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data")
    parser.add_argument("--out", type=Path, default=Path("src/groundspeed/understand/data/language.npz"))
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    examples = [e for e in corpus(args.data) if not e.held_out]
    print(f"data: {args.data.resolve()}", file=sys.stderr)
    sources: dict[tuple[str, str], int] = {}
    for e in examples:
        sources[(e.lang, e.source)] = sources.get((e.lang, e.source), 0) + 1
    for (lang, source), count in sorted(sources.items()):
        print(f"  train {lang:8} {source:36} {count:7,d} posts", file=sys.stderr)
    print(f"  held out (not used): events {sorted(TEST_EVENTS)}", file=sys.stderr)
    by_language = training_texts(examples, rng)
    # Temperature: fit on 90%, choose on the other 10% (random split; only the scale is chosen there).
    split = {lang: int(len(texts) * 0.9) for lang, texts in by_language.items()}
    shuffled = {lang: rng.sample(texts, len(texts)) for lang, texts in by_language.items()}
    weights = fit({lang: texts[: split[lang]] for lang, texts in shuffled.items()})
    validation = [(t, LANGUAGES.index(lang)) for lang, texts in shuffled.items() for t in texts[split[lang] :][:3000]]
    temperature = _temperature(weights, validation)
    weights = fit(by_language)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        weights=weights.astype(np.float16),
        languages=np.array(LANGUAGES),
        scripts=np.array([ARABIC if lang in ("fa", "ar") else LATIN for lang in LANGUAGES], dtype=np.int64),
        bias=np.zeros(len(LANGUAGES), dtype=np.float32),
        temperature=np.float64(temperature),
        bits=np.int64(BITS),
    )
    sizes = ", ".join(f"{lang} {len(texts):,d}" for lang, texts in by_language.items())
    print(f"texts per language (raw + normalised forms): {sizes}", file=sys.stderr)
    print(f"temperature {temperature:.2f}; wrote {args.out} ({args.out.stat().st_size:,d} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
