"""Reproducible synthetic crisis posts in the X API v1.1 shape, for benchmarks and the demo sample.

Everything here is written for groundspeed (no dataset text): short templates in Persian, Finglish,
Arabic and English about a protest/earthquake day in real Iranian cities, with hashtags, mentions,
links, retweet cascades from a heavy-tailed set of authors, replies, and a few geotagged posts.
The same seed always gives the same file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

import msgspec

CITIES = [
    ("تهران", "Tehran", 35.6892, 51.3890),
    ("مشهد", "Mashhad", 36.2605, 59.6168),
    ("اصفهان", "Isfahan", 32.6539, 51.6660),
    ("شیراز", "Shiraz", 29.5918, 52.5837),
    ("تبریز", "Tabriz", 38.0800, 46.2919),
    ("سقز", "Saqqez", 36.2499, 46.2735),
    ("زاهدان", "Zahedan", 29.4963, 60.8629),
    ("رشت", "Rasht", 37.2808, 49.5832),
    ("کرمانشاه", "Kermanshah", 34.3142, 47.0650),
    ("اهواز", "Ahvaz", 31.3183, 48.6706),
]
TEMPLATES = {
    "fa": [
        "الان در {city_fa} صدای تیراندازی می‌آید، مردم در خیابان هستند #{tag_fa}",
        "اینترنت در {city_fa} قطع شده، خبرها را پخش کنید #{tag_fa} #{tag2}",
        "تجمع بزرگ در میدان اصلی {city_fa}، نیروهای امنیتی زیاد هستند",
        "از پنجره خانه‌ام دود می‌بینم، نزدیک بیمارستان {city_fa} #{tag_fa}",
        "گزارش‌ها از بازداشت دانشجویان در {city_fa} حکایت دارد {url}",
        "همه جا ۱۴۰۱ نفر جمع شده‌اند؟ نه، ولی خیلی زیاد هستند در {city_fa}",
    ],
    "en": [
        "Reports of gunfire in {city_en} tonight, crowds on the main square #{tag_en}",
        "Internet shutdown confirmed in {city_en} by several sources {url} #{tag2}",
        "I can see smoke from my window near the hospital in {city_en} #{tag_en}",
        "Thousands marching in {city_en}, security forces blocking roads #{tag_en} #{tag2}",
        "Journalists: please verify before sharing footage from {city_en} {url}",
    ],
    "fi": [
        "alan too {city_en} sedaye tir andazi miad, mardom tu khiaban hastan #{tag_en}",
        "internet to {city_en} ghat shode, khabar ro pakhsh konid #{tag2}",
    ],
    "ar": [
        "تقارير عن إطلاق نار في {city_en} الليلة وحشود في الساحة الرئيسية #{tag_ar}",
        "انقطاع الإنترنت في {city_en} بحسب مصادر متعددة {url}",
    ],
}
# Words added to each template (a few, drawn at random), so that posts say different things the
# way real ones do: without them every post would be a near-copy of one of ~150 messages.
WORDS = {
    "fa": (
        "امروز دیشب خیابان مردم پلیس دانشجو دانشگاه بازار مغازه بسته باز شعار جمعیت زیاد کم "
        "گاز اشک‌آور زخمی بیمارستان آمبولانس خانواده مادر پدر بچه‌ها همسایه صدا ویدیو عکس "
        "خبر تایید نشده لطفا پخش کنید کوچه میدان پل اتوبان ماشین موتور نیروها لباس شخصی"
    ).split(),
    "en": (
        "today tonight street people police students university bazaar shops closed open chants "
        "crowd large small teargas injured hospital ambulance family mother father children "
        "neighbours sound video photo news unconfirmed please share alley square bridge highway "
        "cars motorbikes forces plainclothes"
    ).split(),
    "fi": (
        "emrooz dishab khiaban mardom police daneshjoo daneshgah bazar maghaze baste baz shoar "
        "jamiat ziad kam gaz ashkavar zakhmi bimarestan khanevade madar pedar bache hamsaye seda"
    ).split(),
    "ar": (
        "اليوم الليلة شارع الناس الشرطة طلاب الجامعة السوق المحلات مغلقة مفتوحة هتافات حشود "
        "كبيرة غاز مسيل جرحى مستشفى إسعاف عائلة فيديو صور أخبار غير مؤكدة"
    ).split(),
}
LANG_WEIGHTS = [("fa", 0.55), ("en", 0.25), ("fi", 0.08), ("ar", 0.12)]
TAGS = {
    "tag_fa": ["مهسا_امینی", "زن_زندگی_آزادی", "اعتراضات_سراسری"],
    "tag_en": ["IranProtests", "MahsaAmini", "IranRevolution"],
    "tag_ar": ["ايران", "احتجاجات_ايران"],
    "tag2": ["OpIran", "Iran", "internetshutdown"],
}
FIRST_NAMES = [
    "sara",
    "reza",
    "neda",
    "amir",
    "leila",
    "omid",
    "maryam",
    "kaveh",
    "news",
    "witness",
    "journo",
    "citizen",
]


def _user(rng: random.Random, index: int) -> dict[str, Any]:
    handle = f"{rng.choice(FIRST_NAMES)}_{index}"
    return {
        "id": 10_000 + index,
        "id_str": str(10_000 + index),
        "screen_name": handle,
        "name": handle.replace("_", " ").title(),
        "followers_count": int(rng.paretovariate(1.2) * 50),
        "verified": rng.random() < 0.01,
        "location": rng.choice(["", "Tehran", "تهران", "Iran", "Toronto", "Berlin", ""]),
    }


def _text(rng: random.Random) -> tuple[str, str, tuple[str, str, float, float]]:
    lang = rng.choices([name for name, _ in LANG_WEIGHTS], [weight for _, weight in LANG_WEIGHTS])[0]
    city = rng.choice(CITIES)
    template = rng.choice(TEMPLATES[lang])
    fields = {key: rng.choice(values) for key, values in TAGS.items()}
    url = f"https://t.co/{rng.getrandbits(40):x}"
    text = template.format(city_fa=city[0], city_en=city[1], url=url, **fields)
    text += " " + " ".join(rng.choices(WORDS[lang], k=rng.randint(3, 9)))
    return text, ("fa" if lang == "fi" else lang), city


def _entities(text: str) -> dict[str, Any]:
    hashtags = [{"text": word[1:], "indices": [0, 0]} for word in text.split() if word.startswith("#")]
    urls = [
        {"url": word, "expanded_url": word.replace("t.co", "example.org/story"), "indices": [0, 0]}
        for word in text.split()
        if word.startswith("https://")
    ]
    return {"hashtags": hashtags, "urls": urls, "user_mentions": [], "symbols": []}


def generate_tweets(
    count: int, *, seed: int = 2009, start: datetime | None = None, authors: int | None = None
) -> Iterator[dict[str, Any]]:
    """``count`` v1.1 tweet objects: about 40% retweets, 10% replies, 12% copies of an earlier
    post's text with other hashtags (a copy-paste campaign), 2% geotagged."""
    rng = random.Random(seed)
    start = start or datetime(2022, 9, 16, 18, 0, tzinfo=UTC)
    users = [_user(rng, index) for index in range(authors or max(50, count // 20))]
    # Heavy-tailed activity: a few accounts post most. Cumulative weights make each draw O(log n).
    cumulative = list(accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(users))))
    recent: list[dict[str, Any]] = []
    base_id = 1_570_000_000_000_000_000
    seconds = 0.0
    for index in range(count):
        seconds += rng.expovariate(1 / 0.5)
        created = start + timedelta(seconds=seconds)
        user = rng.choices(users, cum_weights=cumulative)[0]
        tweet_id = base_id + index * 4096 + rng.randrange(4096)
        tweet: dict[str, Any] = {
            "created_at": created.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "id": tweet_id,
            "id_str": str(tweet_id),
            "user": user,
            "retweet_count": 0,
            "favorite_count": int(rng.paretovariate(1.5)) - 1,
            "lang": "und",
            "source": '<a href="https://example.org" rel="nofollow">client</a>',
            "coordinates": None,
            "place": None,
        }
        roll = rng.random()
        if recent and roll < 0.4:
            original = rng.choice(recent)
            tweet["text"] = f"RT @{original['user']['screen_name']}: {original['text']}"[:140]
            tweet["retweeted_status"] = original
            tweet["lang"] = original["lang"]
            tweet["entities"] = original["entities"]
        else:
            text, lang, city = _text(rng)
            if recent and roll > 0.88:  # a copy-paste campaign: an earlier post's words, other tags
                copied = rng.choice(recent)
                text = " ".join(word for word in copied["text"].split() if not word.startswith(("#", "@")))
                text += " #" + rng.choice(TAGS["tag2"])
                lang = copied["lang"] if copied["lang"] != "und" else lang
            if recent and roll < 0.5:
                parent = rng.choice(recent)
                text = f"@{parent['user']['screen_name']} {text}"
                tweet["in_reply_to_status_id"] = parent["id"]
                tweet["in_reply_to_status_id_str"] = parent["id_str"]
                tweet["in_reply_to_screen_name"] = parent["user"]["screen_name"]
            tweet["text"] = text
            tweet["lang"] = lang if rng.random() < 0.9 else "und"
            tweet["entities"] = _entities(text)
            if rng.random() < 0.02:
                lat = city[2] + rng.uniform(-0.05, 0.05)
                lon = city[3] + rng.uniform(-0.05, 0.05)
                tweet["coordinates"] = {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]}
                tweet["geo"] = {"type": "Point", "coordinates": [round(lat, 5), round(lon, 5)]}
            recent.append({key: value for key, value in tweet.items() if key != "retweeted_status"})
            if len(recent) > 200:
                recent.pop(0)
        yield tweet


def write_jsonl(path: str, count: int, *, seed: int = 2009) -> int:
    """Write ``count`` tweets as JSON lines; returns the number of bytes written."""
    encoder = msgspec.json.Encoder()
    written = 0
    with open(path, "wb") as handle:
        for tweet in generate_tweets(count, seed=seed):
            line = encoder.encode(tweet) + b"\n"
            handle.write(line)
            written += len(line)
    return written
