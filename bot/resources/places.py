"""Find the towns and countries a message names: any script, attached case endings, misspellings."""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.language.text import normalise
from bot.resources.directory import Region
from bot.resources.gazetteer import MIN_FUZZY_LENGTH, Gazetteer, Place, script_name

LONGEST_NAME = 4
# Case endings written onto a town's name: "दोहामा" (in Doha), "ঢাকায়", "দিল্লিতে", "रियादमें".
SUFFIXES = {
    "Devanagari": ("में", "मे", "मा", "को", "से", "ले", "का", "की", "के", "बाट", "मै", "तिर"),
    "Bengali": ("য়", "য়", "ে", "তে", "র", "ের", "এ", "য়ে", "য়ে", "কে", "থেকে"),
}
# Letters written onto an Arabic name: "بالدوحة" (in Doha), "للرياض", "والكويت", "بدبي".
ARABIC_ARTICLE_PREFIXES = ("بال", "وال", "فال", "كال", "لل")
ARABIC_PREFIXES = ("و", "ف", "ب", "ل", "ك")
ADJECTIVE_ENDING = 3  # "nepali" -> Nepal, "भारतीय" -> भारत, "مصرية" -> مصر


@dataclass(frozen=True)
class Mention:
    """A place named in a message, with the words (token positions) that name it."""

    place: Place
    start: int
    end: int
    exact: bool = True

    def overlaps(self, other: Mention) -> bool:
        """Say whether two mentions share a word."""
        return self.start < other.end and other.start < self.end


def word_forms(word: str) -> list[str]:
    """Return a word and the forms it may take without a case ending or an attached particle."""
    forms = [word]
    script = script_name(word)
    if script in SUFFIXES:
        forms += [word[: -len(s)] for s in SUFFIXES[script] if word.endswith(s) and len(word) - len(s) >= 2]
    elif script == "Arabic":
        for prefix in ARABIC_ARTICLE_PREFIXES:
            if word.startswith(prefix) and len(word) > len(prefix) + 2:
                forms.append("ال" + word[len(prefix):])
        if word[:1] in ARABIC_PREFIXES and len(word) > 3:
            forms.append(word[1:])
        forms += [f[2:] for f in list(forms) if f.startswith("ال") and len(f) > 4]
    return forms


@dataclass
class PlaceFinder:
    """Match messages against the directory's own regions first, then the gazetteer."""

    gazetteer: Gazetteer
    regions: dict[str, Place] = field(default_factory=dict)

    @classmethod
    def build(cls, gazetteer: Gazetteer, regions: tuple[Region, ...], default_country: str = "") -> PlaceFinder:
        """Index the directory's regions (names, aliases, postcodes) beside the gazetteer."""
        indexed: dict[str, Place] = {}
        for region in regions:
            place = Place(region.names[0] if region.names else region.id, region.country or default_country,
                          region.latitude, region.longitude, 0, region.id)
            for name in (*region.names, *region.postcodes):
                key = normalise(name)
                if key:
                    indexed.setdefault(key, place if name not in region.postcodes else place)
        return cls(gazetteer, indexed)

    def _town_for(self, key: str, default_country: str) -> Place | None:
        """Return the town a name means: the directory's region, else the texter's country's, else the biggest."""
        if key in self.regions:
            return self.regions[key]
        places = self.gazetteer.towns.get(key)
        if not places:
            return None
        for place in places:
            if place.region or place.country == default_country:
                return place
        return places[0]

    def towns(self, text: str, default_country: str = "") -> list[Mention]:
        """Return the towns a message names, in the order they appear (exact names, then misspellings)."""
        tokens = normalise(text).split()
        found: list[Mention] = []
        for size in range(min(LONGEST_NAME, len(tokens)), 0, -1):
            for start in range(len(tokens) - size + 1):
                if any(m.start < start + size and start < m.end for m in found):
                    continue
                place = self._exact(tokens[start : start + size], default_country)
                if place is not None:
                    found.append(Mention(place, start, start + size))
        for index, token in enumerate(tokens):
            if any(m.start <= index < m.end for m in found):
                continue
            place = self._misspelt(token, default_country)
            if place is not None:
                found.append(Mention(place, index, index + 1, exact=False))
        return sorted(found, key=lambda m: m.start)

    def _exact(self, words: list[str], default_country: str) -> Place | None:
        """Match a run of words exactly, allowing a case ending on the last and a particle on the first."""
        heads = word_forms(words[0]) if len(words) > 1 else [words[0]]
        tails = word_forms(words[-1])
        for head in heads:
            for tail in tails:
                phrase = " ".join([head, *words[1:-1], tail]) if len(words) > 1 else tail
                if len(words) == 1 and head != words[0]:
                    continue
                place = self._town_for(phrase, default_country)
                if place is not None:
                    return place
        return None

    def _misspelt(self, token: str, default_country: str) -> Place | None:
        """Match one word to a region or big town by one or two typing mistakes."""
        if len(token) < MIN_FUZZY_LENGTH or token in self.gazetteer.common_words:
            return None
        for form in word_forms(token):
            if len(form) < MIN_FUZZY_LENGTH:
                continue
            allowed = 1 if len(form) < 8 else 2
            region = process.extractOne(form, list(self.regions), scorer=OSA.distance, score_cutoff=allowed)
            if region is not None:
                return self.regions[region[0]]
            key = self.gazetteer.closest_name(form)
            if key is not None:
                place = self._town_for(key, default_country)
                if place is not None:
                    return place
        return None

    def countries(self, text: str) -> list[Mention]:
        """Return the countries a message names (by name or adjective), in order."""
        tokens = normalise(text).split()
        found: list[Mention] = []
        for size in (3, 2, 1):
            for start in range(len(tokens) - size + 1):
                if any(m.start < start + size and start < m.end for m in found):
                    continue
                iso = self._country(tokens[start : start + size])
                if iso:
                    capital = self.gazetteer.capital_of(iso)
                    latitude, longitude = (capital.latitude, capital.longitude) if capital else (0.0, 0.0)
                    name = " ".join(tokens[start : start + size])
                    found.append(Mention(Place(name, iso, latitude, longitude, kind="country"), start, start + size))
        return sorted(found, key=lambda m: m.start)

    def _country(self, words: list[str]) -> str:
        """Return the ISO code a run of words names, or ''."""
        for form in word_forms(words[-1]):
            phrase = " ".join([*words[:-1], form])
            codes = self.gazetteer.countries.get(phrase)
            if codes is None and len(words) == 1:
                codes = next((self.gazetteer.countries[phrase[:-cut]] for cut in range(1, ADJECTIVE_ENDING + 1)
                              if len(phrase) - cut >= 4 and phrase[:-cut] in self.gazetteer.countries), None)
            if codes:
                return sorted(codes)[0]
        return ""


def match_place(finder: PlaceFinder, text: str, default_country: str = "") -> Place | None:
    """Return the first town a message names, else a country it names, else None."""
    towns = finder.towns(text, default_country)
    if towns:
        return towns[0].place
    countries = finder.countries(text)
    return countries[0].place if countries else None
