"""Identify a message's language: Unicode script, then the texts people send, then markers, then py3langid."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bot.language.model import LanguageModel
from bot.language.registry import LanguageRegistry
from bot.language.text import dominant_script, words

MIN_WORDS_TO_DETECT = 3
CONFIDENCE = 0.90
EXAMPLES_CONFIDENCE = 0.80
UNSUPPORTED_CONFIDENCE = 0.97
MARKER_SHARE = 0.2
# Share of a message's words seen in the languages' examples: below FAMILIAR py3langid may call
# it an unsupported language; below TRUSTED nothing is confident (we would not understand it).
# Chosen by measurement: `make bench-nlu`, bench/results/nlu.md.
FAMILIAR_SHARE = 0.6
TRUSTED_SHARE = 0.25


@dataclass(frozen=True)
class Detection:
    """The outcome of language identification for one message."""

    language: str | None
    confident: bool
    supported: bool = True
    method: str = "model"  # "script", "examples", "markers" or "model" (py3langid)


class LanguageDetector:
    """Detect among the supported languages; flag confident unsupported ones."""

    def __init__(self, registry: LanguageRegistry, examples: LanguageModel | None = None) -> None:
        self.registry = registry
        self.examples = examples
        self._lock = threading.Lock()
        self._identifiers: dict[tuple[str, ...], LanguageIdentifier] = {}

    @cached_property
    def _full_model(self) -> LanguageIdentifier:
        """Load py3langid's model once (normalised probabilities)."""
        return LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)

    def _identifier_for(self, among: tuple[str, ...]) -> LanguageIdentifier:
        """Return an identifier restricted to some languages, built once per set (thread-safe)."""
        with self._lock:
            if among not in self._identifiers:
                full = self._full_model
                identifier = LanguageIdentifier(full.nb_ptc, full.nb_pc, full.nb_numfeats, full.nb_classes,
                                                full.tk_nextmove, full.tk_output, norm_probs=True)
                if among:
                    identifier.set_languages(list(among))
                self._identifiers[among] = identifier
            return self._identifiers[among]

    def _classify(self, text: str, among: list[str] | None) -> tuple[str, float]:
        """Classify a text among some language codes (None: every language py3langid knows).

        Languages py3langid does not know (added by an operator) are never its answer;
        they are recognised by their detection markers or chosen from the menu.
        """
        if among is None:
            language, probability = self._identifier_for(()).classify(text)
            return str(language), float(probability)
        known = tuple(code for code in among if code in self._full_model.nb_classes)
        if len(known) <= 1:
            return (known[0] if known else among[0]), 0.0
        language, probability = self._identifier_for(known).classify(text)
        return str(language), float(probability)

    def _hits(self, tokens: list[str], code: str) -> int:
        """Count tokens that are marker words of a language (or end with a '-suffix' marker)."""
        markers = self.registry.by_code[code].detection_markers
        suffixes = tuple(m[1:] for m in markers if m.startswith("-") and len(m) > 1)
        return sum(1 for token in tokens if token in markers or (suffixes and token.endswith(suffixes)))

    def _by_markers(self, tokens: list[str], codes: list[str], min_hits: int, min_share: float) -> str | None:
        """Return the language whose markers clearly lead (enough hits, share, ahead of the rest)."""
        ranked = sorted(((self._hits(tokens, code), code) for code in codes), reverse=True)
        if not ranked:
            return None
        best_hits, best = ranked[0]
        runner_up = ranked[1][0] if len(ranked) > 1 else 0
        if best_hits >= min_hits and best_hits / len(tokens) >= min_share and best_hits > runner_up:
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
        if script != "Latin" and len(same_script) == 1:
            return Detection(same_script[0], confident=True, method="script")
        familiar = self.examples.known_share(tokens, script) if self.examples else 0.0
        if long_enough and script == "Latin" and familiar < FAMILIAR_SHARE:
            other, other_probability = self._classify(text, None)
            if other not in self.registry.by_code and other_probability >= UNSUPPORTED_CONFIDENCE:
                return Detection(None, confident=True, supported=False)
        if self.examples and familiar >= TRUSTED_SHARE:
            language, probability = self.examples.classify(text, script)
            if language in self.registry.by_code and probability >= EXAMPLES_CONFIDENCE:
                return Detection(language, confident=long_enough, method="examples")
        if script == "Latin":
            romanized = [
                lang.code
                for lang in self.registry.languages
                if lang.script != "Latin" and any(m.isascii() for m in lang.detection_markers)
            ]
            marked = self._by_markers(tokens, romanized + same_script, min_hits=2, min_share=MARKER_SHARE)
        else:
            marked = self._by_markers(tokens, same_script, min_hits=1, min_share=0.0)
        if marked:
            return Detection(marked, confident=long_enough, method="markers")
        language, probability = self._classify(text, same_script)
        trusted = self.examples is None or familiar >= TRUSTED_SHARE
        return Detection(language, confident=long_enough and trusted and probability >= CONFIDENCE)
