"""Identify a message's language: Unicode script first, then markers, then py3langid."""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bot.languages import LanguageRegistry
from bot.text import words

MIN_WORDS_TO_DETECT = 3
CONFIDENCE = 0.90
UNSUPPORTED_CONFIDENCE = 0.97
MARKER_SHARE = 0.3


@dataclass(frozen=True)
class Detection:
    """The outcome of language identification for one message."""

    language: str | None
    confident: bool
    supported: bool = True


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


class LanguageDetector:
    """Detect among the supported languages; flag confident unsupported ones."""

    def __init__(self, registry: LanguageRegistry) -> None:
        self.registry = registry
        self._lock = threading.Lock()

    @cached_property
    def _identifier(self) -> LanguageIdentifier:
        """Load py3langid's model once (normalised probabilities)."""
        return LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)

    def _classify(self, text: str, among: list[str] | None) -> tuple[str, float]:
        """Classify a text among some language codes (None: every language py3langid knows)."""
        identifier = self._identifier
        with self._lock:  # set_languages mutates the shared model
            identifier.set_languages(among)
            language, probability = identifier.classify(text)
        return str(language), float(probability)

    def _by_markers(self, tokens: list[str], codes: list[str]) -> str | None:
        """Return the language whose marker words cover a clear share of the message."""
        best, best_hits = None, 0
        for code in codes:
            markers = self.registry.by_code[code].detection_markers
            hits = sum(1 for token in tokens if token in markers)
            if hits > best_hits:
                best, best_hits = code, hits
        if best and best_hits >= 2 and best_hits / len(tokens) >= MARKER_SHARE:
            return best
        return None

    def detect(self, text: str) -> Detection:
        """Identify the language of a message; only 3+ word messages can be confident."""
        tokens = [t for t in words(text) if not t.isdigit()]
        script = dominant_script(text)
        if script is None or not tokens:
            return Detection(None, confident=False)
        same_script = [lang.code for lang in self.registry.languages if lang.script == script]
        if not same_script:
            return Detection(None, confident=True, supported=False)
        long_enough = len(tokens) >= MIN_WORDS_TO_DETECT
        if script == "Latin":
            romanized = [
                lang.code
                for lang in self.registry.languages
                if lang.script != "Latin" and any(m.isascii() for m in lang.detection_markers)
            ]
            marked = self._by_markers(tokens, romanized + same_script)
            if marked:
                return Detection(marked, confident=long_enough)
        elif len(same_script) == 1:
            return Detection(same_script[0], confident=True)
        else:
            marked = self._by_markers(tokens, same_script)
            if marked:
                return Detection(marked, confident=long_enough)
        language, probability = self._classify(text, same_script)
        if long_enough and script == "Latin" and probability < CONFIDENCE:
            other, other_probability = self._classify(text, None)
            if other not in self.registry.by_code and other_probability >= UNSUPPORTED_CONFIDENCE:
                return Detection(None, confident=True, supported=False)
        return Detection(language, confident=long_enough and probability >= CONFIDENCE)
