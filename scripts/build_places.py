"""Build ``src/groundspeed/track/data/places.json``, the small gazetteer behind tracker ``places``.

Run from the repository root with the shared data folder present::

    .venv/bin/python scripts/build_places.py /work/shared/data/persian

Sources (only data whose licence allows shipping it):

* Iranian county seats, provinces' Persian/English names: masterking32/iran-states-cities-districts
  (MIT, (c) 2024 Amin Mahmoudi; data from post.ir), file ``iran_cities_fa_en_latlon.csv``.
* Province bounding boxes and Iran's outline: computed from the OpenStreetMap province polygons in
  hosseinhabibi2004/iran-geojson, (c) OpenStreetMap contributors, ODbL 1.0.
* Other countries and world cities: written here by hand (approximate centres and boxes).

The Tehran-neighbourhood and jafaripur lists state no licence and are not used.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parents[1] / "src/groundspeed/track/data/places.json"
DEFAULT_RADIUS_KM = 8.0
# English names in the source that are not a city's name (geocoder leftovers) are dropped.
_BAD_EN_WORDS = re.compile(
    r"\b(road|district|rural|central|bakhsh|county|terminal|cng|station|street|square|and)\b", re.I
)
_CLEAN_EN = re.compile(r"^[A-Za-z][A-Za-z' .-]+$")

# Major Iranian cities: (Persian name in the source, English name, other spellings, radius km).
# Only these (and provinces) count as "inside" a country or province when matching place text,
# so that a profile location of "Tehran" matches a tracker on Iran, but a small town whose name is
# also a common word (نور "light", بهار "spring") does not.
MAJOR_IRAN = [
    ("تهران", "Tehran", ["Teheran"], 25),
    ("مشهد", "Mashhad", ["Mashad", "Meshed"], 15),
    ("اصفهان", "Isfahan", ["Esfahan"], 15),
    ("کرج", "Karaj", [], 12),
    ("شیراز", "Shiraz", [], 12),
    ("تبریز", "Tabriz", [], 12),
    ("قم", "Qom", ["Ghom"], 10),
    ("اهواز", "Ahvaz", ["Ahwaz"], 12),
    ("کرمانشاه", "Kermanshah", [], 10),
    ("ارومیه", "Urmia", ["Orumiyeh", "Urumieh", "Orumieh"], 10),
    ("رشت", "Rasht", [], 10),
    ("زاهدان", "Zahedan", [], 10),
    ("کرمان", "Kerman", [], 10),
    ("همدان", "Hamadan", ["Hamedan"], 10),
    ("یزد", "Yazd", [], 10),
    ("اراک", "Arak", [], 8),
    ("اردبیل", "Ardabil", [], 8),
    ("بندرعباس", "Bandar Abbas", ["Bandar-e Abbas"], 10),
    ("زنجان", "Zanjan", [], 8),
    ("سنندج", "Sanandaj", [], 8),
    ("قزوین", "Qazvin", ["Ghazvin"], 8),
    ("خرم آباد", "Khorramabad", [], 8),
    ("گرگان", "Gorgan", [], 8),
    ("ساری", "Sari", [], 8),
    ("بجنورد", "Bojnurd", ["Bojnourd"], 6),
    ("بیرجند", "Birjand", [], 6),
    ("ایلام", "Ilam", [], 6),
    ("بوشهر", "Bushehr", [], 6),
    ("سمنان", "Semnan", [], 6),
    ("شهرکرد", "Shahrekord", ["Shahr-e Kord"], 6),
    ("سقز", "Saqqez", ["Saqez", "Saghez"], 6),
    ("مهاباد", "Mahabad", [], 6),
    ("جوانرود", "Javanrud", [], 5),
    ("پیرانشهر", "Piranshahr", [], 5),
    ("بوکان", "Bukan", ["Boukan"], 6),
    ("اشنویه", "Oshnavieh", ["Oshnaviyeh"], 5),
    ("دیواندره", "Divandarreh", [], 5),
    ("ایذه", "Izeh", [], 5),
    ("خاش", "Khash", [], 5),
    ("آبادان", "Abadan", [], 8),
    ("دزفول", "Dezful", [], 8),
    ("اسلامشهر", "Eslamshahr", [], 8),
]

# Written by hand: (slug, English, Persian, other spellings, (west, south, east, north)).
COUNTRIES = [
    ("iraq", "Iraq", "عراق", ["العراق"], (38.8, 29.1, 48.6, 37.4)),
    ("afghanistan", "Afghanistan", "افغانستان", [], (60.5, 29.4, 74.9, 38.5)),
    ("syria", "Syria", "سوریه", ["سوريا"], (35.7, 32.3, 42.4, 37.3)),
    ("lebanon", "Lebanon", "لبنان", [], (35.1, 33.05, 36.65, 34.7)),
    ("turkey", "Turkey", "ترکیه", ["Türkiye", "Turkiye", "تركيا"], (26.0, 35.8, 44.8, 42.1)),
    ("ukraine", "Ukraine", "اوکراین", ["أوكرانيا"], (22.1, 44.4, 40.2, 52.4)),
    ("yemen", "Yemen", "یمن", ["اليمن"], (42.5, 12.1, 54.5, 19.0)),
    ("gaza-strip", "Gaza Strip", "نوار غزه", ["قطاع غزة"], (34.2, 31.2, 34.6, 31.6)),
    ("west-bank", "West Bank", "کرانه باختری", ["الضفة الغربية"], (34.88, 31.34, 35.57, 32.55)),
    ("israel", "Israel", "اسرائیل", ["إسرائيل"], (34.25, 29.45, 35.9, 33.35)),
    ("sudan", "Sudan", "سودان", ["السودان"], (21.8, 8.7, 38.6, 22.2)),
]
# (slug, English, Persian, other spellings, lat, lon, radius km, country slug).
WORLD_CITIES = [
    ("yasuj", "Yasuj", "یاسوج", ["Yasouj"], 30.6682, 51.5880, 6, "kohgiluye-and-buyer-ahmad-province"),
    ("kabul", "Kabul", "کابل", [], 34.5553, 69.2075, 15, "afghanistan"),
    ("herat", "Herat", "هرات", [], 34.3529, 62.2040, 10, "afghanistan"),
    ("mazar-i-sharif", "Mazar-i-Sharif", "مزار شریف", ["Mazar-e Sharif"], 36.7090, 67.1109, 8, "afghanistan"),
    ("kandahar", "Kandahar", "قندهار", [], 31.6289, 65.7372, 10, "afghanistan"),
    ("baghdad", "Baghdad", "بغداد", [], 33.3152, 44.3661, 20, "iraq"),
    ("basra", "Basra", "بصره", ["البصرة"], 30.5085, 47.7804, 10, "iraq"),
    ("erbil", "Erbil", "اربیل", ["أربيل", "Hewler"], 36.1911, 44.0092, 10, "iraq"),
    ("sulaymaniyah", "Sulaymaniyah", "سلیمانیه", ["السليمانية", "Slemani"], 35.5613, 45.4305, 8, "iraq"),
    ("mosul", "Mosul", "موصل", ["الموصل"], 36.3350, 43.1189, 10, "iraq"),
    ("najaf", "Najaf", "نجف", ["النجف"], 32.0259, 44.3462, 8, "iraq"),
    ("karbala", "Karbala", "کربلا", ["كربلاء"], 32.6160, 44.0249, 8, "iraq"),
    ("damascus", "Damascus", "دمشق", [], 33.5138, 36.2765, 15, "syria"),
    ("aleppo", "Aleppo", "حلب", [], 36.2021, 37.1343, 12, "syria"),
    ("beirut", "Beirut", "بیروت", ["بيروت"], 33.8938, 35.5018, 10, "lebanon"),
    ("gaza", "Gaza", "غزه", ["غزة", "Gaza City"], 31.5017, 34.4668, 6, "gaza-strip"),
    ("rafah", "Rafah", "رفح", [], 31.2969, 34.2456, 4, "gaza-strip"),
    ("khan-yunis", "Khan Yunis", "خان یونس", ["خان يونس", "Khan Younis"], 31.3462, 34.3060, 4, "gaza-strip"),
    ("jerusalem", "Jerusalem", "قدس", ["القدس", "اورشلیم"], 31.7683, 35.2137, 8, ""),
    ("tel-aviv", "Tel Aviv", "تل آویو", ["تل أبيب", "Tel Aviv-Yafo"], 32.0853, 34.7818, 8, "israel"),
    ("sanaa", "Sanaa", "صنعا", ["صنعاء", "Sana'a"], 15.3694, 44.1910, 10, "yemen"),
    ("aden", "Aden", "عدن", [], 12.7855, 45.0187, 8, "yemen"),
    ("istanbul", "Istanbul", "استانبول", ["إسطنبول"], 41.0082, 28.9784, 25, "turkey"),
    ("ankara", "Ankara", "آنکارا", ["أنقرة"], 39.9334, 32.8597, 15, "turkey"),
    ("kyiv", "Kyiv", "کی‌یف", ["Kiev", "كييف"], 50.4501, 30.5234, 15, "ukraine"),
    ("kharkiv", "Kharkiv", "خارکیف", ["Kharkov"], 49.9935, 36.2304, 12, "ukraine"),
    ("khartoum", "Khartoum", "خارطوم", ["الخرطوم"], 15.5007, 32.5599, 15, "sudan"),
]


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def clean_en(name: str) -> str | None:
    name = name.strip()
    if not name or not _CLEAN_EN.match(name) or _BAD_EN_WORDS.search(name):
        return None
    words = name.split()
    if len(words) > 3 or not all(word[0].isupper() for word in words):
        return None  # a description ("Bahmai village on the eastern border"), not a name
    return name


def rounded(values: tuple[float, ...] | list[float]) -> list[float]:
    return [round(value, 4) for value in values]


def _polygon_points(geometry: dict[str, Any]) -> list[list[float]]:
    rings = (
        geometry["coordinates"] if geometry["type"] == "Polygon" else [r for p in geometry["coordinates"] for r in p]
    )
    return [point for ring in rings for point in ring]


def province_boxes(osm_path: Path) -> dict[str, tuple[str, str, tuple[float, float, float, float]]]:
    """English name -> (ISO code, Persian name, bbox) from the OSM polygons."""
    boxes = {}
    for feature in json.loads(osm_path.read_text())["features"]:
        tags = feature["properties"]["tags"]
        points = _polygon_points(feature["geometry"])
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        boxes[tags["name:en"]] = (tags["ISO3166-2"], tags["name:fa"], (min(lons), min(lats), max(lons), max(lats)))
    return boxes


def inside(box: tuple[float, float, float, float], lat: float, lon: float, margin: float = 0.2) -> bool:
    west, south, east, north = box
    return west - margin <= lon <= east + margin and south - margin <= lat <= north + margin


def build(shared: Path) -> dict[str, Any]:
    boxes = province_boxes(shared / "gazetteer_iran_geojson_osm/provinces.all.min.geojson")
    places: list[dict[str, Any]] = []
    iran_box = (
        min(b[2][0] for b in boxes.values()),
        min(b[2][1] for b in boxes.values()),
        max(b[2][2] for b in boxes.values()),
        max(b[2][3] for b in boxes.values()),
    )
    places.append(_area("iran", "country", "Iran", "ایران", ["إيران", "Persia", "IR"], iran_box, [], "osm"))
    province_slug: dict[str, str] = {}
    for name_en, (_iso, name_fa, box) in sorted(boxes.items()):
        slug = f"{slugify(name_en)}-province"
        province_slug[name_en] = slug
        aliases = [f"{name_en} Province", f"استان {name_fa}", f"Ostan-e {name_en}"]
        places.append(_area(slug, "province", name_en, name_fa, aliases, box, ["iran"], "osm"))
    places.extend(_iran_cities(shared, boxes, province_slug))
    for slug, en, fa, aliases, box in COUNTRIES:
        places.append(_area(slug, "country", en, fa, aliases, box, [], "groundspeed"))
    for slug, en, fa, aliases, lat, lon, radius, country in WORLD_CITIES:
        parents = [country, "iran"] if country.endswith("-province") else [country] if country else []
        places.append(_city(slug, en, fa, aliases, lat, lon, radius, parents, True, "groundspeed"))
    return {
        "about": "Places for tracker rules: Iran's provinces and county seats, and a short list of other "
        "countries and cities. See README.md in this folder for sources and licences.",
        "attribution": {
            "mit": "Iranian cities: masterking32/iran-states-cities-districts, MIT, (c) 2024 Amin Mahmoudi",
            "osm": "Iran's outline and province boxes: (c) OpenStreetMap contributors, ODbL 1.0",
            "groundspeed": "Other countries and cities: written for groundspeed (approximate)",
        },
        "places": places,
    }


def _area(
    slug: str, kind: str, en: str, fa: str, aliases: list[str], box: Any, parents: list[str], source: str
) -> dict[str, Any]:
    west, south, east, north = box
    return {
        "slug": slug,
        "kind": kind,
        "name": en,
        "name_fa": fa,
        "aliases": aliases,
        "lat": round((south + north) / 2, 4),
        "lon": round((west + east) / 2, 4),
        "bbox": rounded(box),
        "parents": parents,
        "major": True,
        "source": source,
    }


def _city(
    slug: str,
    en: str,
    fa: str,
    aliases: list[str],
    lat: float,
    lon: float,
    radius: float,
    parents: list[str],
    major: bool,
    source: str,
) -> dict[str, Any]:
    return {
        "slug": slug,
        "kind": "city",
        "name": en,
        "name_fa": fa,
        "aliases": aliases,
        "lat": round(lat, 4),
        "lon": round(lon, 4),
        "radius_km": radius,
        "parents": parents,
        "major": major,
        "source": source,
    }


def _iran_cities(shared: Path, boxes: dict[str, Any], province_slug: dict[str, str]) -> list[dict[str, Any]]:
    path = shared / "gazetteer_iran_cities_post_ir/iran_cities_fa_en_latlon.csv"
    rows = [row for row in csv.DictReader(path.open(encoding="utf-8")) if row["is_county_seat"] == "True"]
    major = {fa: (en, aliases, radius) for fa, en, aliases, radius in MAJOR_IRAN}
    seen_fa = {row["name_fa"].strip() for row in rows}
    missing = set(major) - seen_fa
    if missing:
        raise SystemExit(f"major cities missing from the source: {sorted(missing)}")
    cities: list[dict[str, Any]] = []
    used: set[str] = set()
    dropped = 0
    for row in sorted(rows, key=lambda r: (r["province_en"], r["name_fa"])):
        fa = row["name_fa"].strip()
        province = row["province_en"].strip()
        if province not in boxes:
            raise SystemExit(f"unknown province {province!r}")
        if not row["lat"] or not inside(boxes[province][2], float(row["lat"]), float(row["lon"])):
            dropped += 1  # geocoded outside its own province: not trustworthy
            continue
        en, aliases, radius = major.get(fa, (clean_en(row["name_en"]), [], DEFAULT_RADIUS_KM))
        slug = slugify(en) if en else "-".join(fa.split())
        if slug in used:
            slug = f"{slug}-{slugify(province)}"
        if slug in used:
            continue  # the same county listed twice
        used.add(slug)
        parents = [province_slug[province], "iran"]
        cities.append(
            _city(
                slug, en or fa, fa, aliases, float(row["lat"]), float(row["lon"]), radius, parents, fa in major, "mit"
            )
        )
    print(f"{len(cities)} Iranian cities, {dropped} dropped (coordinates outside their province)", file=sys.stderr)
    return cities


def main() -> None:
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/persian")
    data = build(shared)
    OUTPUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUTPUT}: {len(data['places'])} places, {OUTPUT.stat().st_size:,} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
