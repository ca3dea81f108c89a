"""Match a typed town, region or postcode to a directory region, tolerating typos."""

from __future__ import annotations

from difflib import SequenceMatcher

from bot.language.text import normalise
from bot.resources.directory import Region

FUZZY_RATIO = 0.8
MIN_FUZZY_LENGTH = 4


def _phrases(tokens: list[str], longest: int = 3) -> list[str]:
    """Return every run of 1..longest consecutive words."""
    return [" ".join(tokens[i : i + n]) for n in range(longest, 0, -1) for i in range(len(tokens) - n + 1)]


def match_place(regions: tuple[Region, ...], text: str) -> Region | None:
    """Return the region a message names (alias, spelling variant, postcode), if any."""
    tokens = normalise(text).split()
    if not tokens:
        return None
    phrases = _phrases(tokens)
    names = [(normalise(name), region) for region in regions for name in region.names]
    for phrase in phrases:
        for name, region in names:
            if phrase == name:
                return region
    for token in tokens:
        for region in regions:
            if token in region.postcodes:
                return region
    best: tuple[float, Region | None] = (0.0, None)
    matcher = SequenceMatcher()
    for name, region in names:
        matcher.set_seq2(name)  # difflib caches details about the second sequence
        for phrase in phrases:
            if len(phrase) < MIN_FUZZY_LENGTH or abs(len(phrase) - len(name)) > len(name) * (1 - FUZZY_RATIO) + 1:
                continue
            matcher.set_seq1(phrase)
            if matcher.real_quick_ratio() <= best[0] or matcher.quick_ratio() <= best[0]:
                continue
            ratio = matcher.ratio()
            if ratio > best[0]:
                best = (ratio, region)
    return best[1] if best[0] >= FUZZY_RATIO else None
