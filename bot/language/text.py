"""Normalise message text for keyword and pattern matching across scripts."""

from __future__ import annotations

import re
import unicodedata

_ARABIC_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"})
_SPACES = re.compile(r"\s+")


def _strips_marks_after(base: str) -> bool:
    """Say whether combining marks after this base character are decoration to drop."""
    return base < "\u0250" or "\u0600" <= base <= "\u06ff"


def _spacing(ch: str) -> str:
    """Map punctuation, symbols and controls to a space; drop invisible format marks."""
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    return " " if category[0] in "PSZC" else ch


def normalise(text: str) -> str:
    """Lower-case, drop Latin accents and Arabic diacritics, unify alef, strip punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    kept: list[str] = []
    base = ""
    for ch in decomposed:
        if unicodedata.category(ch) == "Mn" and base and _strips_marks_after(base):
            continue
        if unicodedata.category(ch) != "Mn":
            base = ch
        kept.append(ch)
    folded = unicodedata.normalize("NFC", "".join(kept)).translate(_ARABIC_FORMS)
    folded = folded.replace("\u0640", "")  # Arabic tatweel
    spaced = "".join(_spacing(ch) for ch in folded)
    return _SPACES.sub(" ", spaced).strip()


def words(text: str) -> list[str]:
    """Split normalised text into words."""
    return normalise(text).split()


def script_of(ch: str) -> str | None:
    """Return the Unicode script family of a letter (None for non-letters)."""
    if not ch.isalpha() and unicodedata.category(ch) not in {"Mn", "Mc"}:
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0].title() if name else None


def dominant_script(text: str) -> str | None:
    """Return the script most letters of a text are written in."""
    counts: dict[str, int] = {}
    for ch in text:
        script = script_of(ch)
        if script:
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda s: counts[s]) if counts else None
