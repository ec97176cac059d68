"""Named places for tracker rules: a small bundled gazetteer.

A tracker can name places (``places = ["Tehran", "کردستان", "Iran"]``) instead of drawing boxes.
Each place is either a centre point with a radius (cities) or a bounding box (provinces,
countries). The bundled list (``data/places.json``, see ``data/README.md`` for sources and
licences) holds Iran, its 31 provinces and 480 county seats, and a short list of other countries
and cities often in the news in Persian and Arabic (Kabul, Baghdad, Gaza, Kyiv, ...).

A name is looked up by its slug (``tehran``, ``kurdistan-province``) or by any of its spellings,
Persian or English, folded like post text (so ``Tehran``, ``TEHRAN``, ``تهران`` all work). When
a city and its province share a name, the name means the city; the province is ``Tehran
province`` / ``استان تهران`` / ``tehran-province``.

Each place knows its parents (a city's province and country), so that a post whose place text
names a major city also counts as being in the city's province and country.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from groundspeed.text import normalise

BBox = tuple[float, float, float, float]  # west, south, east, north (degrees)
PlaceKind = Literal["city", "province", "country"]
EARTH_RADIUS_KM = 6371.0088
_KM_PER_DEGREE = 111.32
_KIND_PREFERENCE: dict[str, int] = {"city": 0, "province": 1, "country": 2}  # a bare name means the city


def bbox_contains(bbox: BBox, lat: float, lon: float) -> bool:
    """Whether the point is in the box; a box whose west edge is east of its east edge crosses
    the 180th meridian."""
    west, south, east, north = bbox
    if not south <= lat <= north:
        return False
    if west <= east:
        return west <= lon <= east
    return lon >= west or lon <= east


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def circle_bbox(lat: float, lon: float, radius_km: float) -> BBox:
    """A box around the circle: a cheap first test before the distance."""
    dlat = radius_km / _KM_PER_DEGREE
    dlon = radius_km / (_KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return (max(lon - dlon, -180.0), max(lat - dlat, -90.0), min(lon + dlon, 180.0), min(lat + dlat, 90.0))


@dataclass(frozen=True, slots=True)
class Place:
    """One named place. Cities have ``radius_km``; provinces and countries have a ``bbox`` only."""

    slug: str
    kind: PlaceKind
    name: str  # English, or Persian when the source has no reliable English name
    name_fa: str
    lat: float
    lon: float
    bbox: BBox
    radius_km: float | None = None
    aliases: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()  # slugs, nearest first: province, country
    major: bool = False  # counts as inside its parents when named in place text
    source: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every spelling, as written."""
        return tuple(dict.fromkeys((self.name, self.name_fa, *self.aliases)))

    def contains(self, lat: float, lon: float) -> bool:
        if not bbox_contains(self.bbox, lat, lon):
            return False
        return self.radius_km is None or distance_km(self.lat, self.lon, lat, lon) <= self.radius_km

    def describe(self) -> str:
        """For people: ``Tehran (تهران), city in tehran-province, iran, 25 km around the centre``."""
        label = self.name if self.name == self.name_fa else f"{self.name} ({self.name_fa})"
        where = f" in {', '.join(self.parents)}" if self.parents else ""
        west, south, east, north = self.bbox
        shape = (
            f"{self.radius_km:g} km around {self.lat:g},{self.lon:g}"
            if self.radius_km is not None
            else f"box {west:g},{south:g},{east:g},{north:g}"
        )
        return f"{label}, {self.kind}{where}, {shape}"


def place_key(name: str) -> str:
    """A spelling as it is compared: folded like post text (case, Arabic/Persian letters, ZWNJ),
    and hyphens and underscores as spaces, so ``tehran-province`` equals ``Tehran Province``."""
    return " ".join(normalise(name).replace("-", " ").replace("_", " ").split())


@dataclass(slots=True)
class Gazetteer:
    """Places by slug and by spelling."""

    places: tuple[Place, ...]
    _by_slug: dict[str, Place] = field(init=False, repr=False)
    _by_name: dict[str, list[Place]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_slug = {place.slug: place for place in self.places}
        self._by_name = {}
        for place in self.places:
            for name in (place.slug, *place.names):
                key = place_key(name)
                candidates = self._by_name.setdefault(key, [])
                if place not in candidates:
                    candidates.append(place)
        for candidates in self._by_name.values():
            candidates.sort(key=lambda place: (_KIND_PREFERENCE[place.kind], not place.major))

    def __iter__(self) -> Iterator[Place]:
        return iter(self.places)

    def __len__(self) -> int:
        return len(self.places)

    def get(self, slug: str) -> Place | None:
        return self._by_slug.get(slug)

    def find(self, name: str) -> Place | None:
        """The place a name means: an exact slug first, then a spelling (a city before a province
        of the same name, a major city before a small one)."""
        exact = self._by_slug.get(name.strip())
        if exact is not None:
            return exact
        candidates = self._by_name.get(place_key(name))
        return candidates[0] if candidates else None

    def find_all(self, name: str) -> list[Place]:
        """Every place with that spelling, the one ``find`` picks first."""
        return list(self._by_name.get(place_key(name), []))

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Close spellings, for "did you mean" messages."""
        return difflib.get_close_matches(place_key(name), list(self._by_name), n=limit, cutoff=0.75)

    def inside(self, slug: str) -> list[Place]:
        """Places that have ``slug`` among their parents."""
        return [place for place in self.places if slug in place.parents]


def _place_from_json(item: dict[str, Any]) -> Place:
    lat, lon = float(item["lat"]), float(item["lon"])
    radius = None if item.get("radius_km") is None else float(item["radius_km"])
    bbox = tuple(item["bbox"]) if radius is None else circle_bbox(lat, lon, radius)
    return Place(
        slug=item["slug"],
        kind=item["kind"],
        name=item["name"],
        name_fa=item["name_fa"],
        lat=lat,
        lon=lon,
        bbox=(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])),
        radius_km=radius,
        aliases=tuple(item.get("aliases", ())),
        parents=tuple(item.get("parents", ())),
        major=bool(item.get("major", False)),
        source=item.get("source", ""),
    )


def gazetteer_from_json(data: bytes | str) -> Gazetteer:
    """A gazetteer from JSON in the ``places.json`` shape (``{"places": [...]}``)."""
    return Gazetteer(tuple(_place_from_json(item) for item in json.loads(data)["places"]))


@functools.cache
def default_gazetteer() -> Gazetteer:
    """The bundled gazetteer, read once."""
    data = resources.files("groundspeed.track").joinpath("data/places.json").read_bytes()
    return gazetteer_from_json(data)
