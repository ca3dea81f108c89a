"""In-domain language identification: naive Bayes on each language's own NLU examples, per script."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from bot.language.nlu_data import read_nlu_file
from bot.language.text import dominant_script, normalise

SMOOTHING = 0.05


@dataclass(frozen=True)
class ScriptModel:
    """A classifier among the languages written in one script, and the words it has seen."""

    pipeline: Pipeline
    vocabulary: frozenset[str]


class LanguageModel:
    """Tell apart the languages that share a script, trained on texts people send in each.

    Romanized Hindi, Nepali, Bengali or Arabic examples are texts in Latin script, so they
    train the Latin-script model under their own language: script decides which model runs.
    """

    def __init__(self, by_script: dict[str, ScriptModel]) -> None:
        self.by_script = by_script

    @classmethod
    def train(cls, samples: Iterable[tuple[str, str]]) -> LanguageModel:
        """Fit one model per script from (language code, text) pairs."""
        grouped: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
        for code, text in samples:
            script = dominant_script(text)
            if script:
                grouped[script][0].append(normalise(text))
                grouped[script][1].append(code)
        by_script = {}
        for script, (texts, codes) in grouped.items():
            if len(set(codes)) < 2:
                continue  # a script only one language uses is decided by the script itself
            features = make_union(CountVectorizer(analyzer="char_wb", ngram_range=(1, 4)),
                                  CountVectorizer(token_pattern=r"(?u)\b\w+\b"))
            pipeline = make_pipeline(features, MultinomialNB(alpha=SMOOTHING)).fit(texts, codes)
            vocabulary = frozenset(word for text in texts for word in text.split())
            by_script[script] = ScriptModel(pipeline, vocabulary)
        return cls(by_script)

    def classify(self, text: str, script: str) -> tuple[str | None, float]:
        """Return the likeliest language among those written in this script, and its probability."""
        model = self.by_script.get(script)
        if model is None:
            return None, 0.0
        probabilities = model.pipeline.predict_proba([normalise(text)])[0]
        best = int(np.argmax(probabilities))
        return str(model.pipeline.classes_[best]), float(probabilities[best])

    def known_share(self, tokens: list[str], script: str) -> float:
        """Share of a message's (normalised) words that appear in this script's training texts."""
        model = self.by_script.get(script)
        if model is None or not tokens:
            return 0.0
        return sum(1 for t in tokens if t in model.vocabulary) / len(tokens)


def read_examples(intents_dir: Path, codes: Sequence[str]) -> list[tuple[str, str]]:
    """Return (language code, text) for every NLU example of the given languages."""
    return [(code, text) for code in codes if (intents_dir / code / "nlu.yml").is_file()
            for _, text in read_nlu_file(intents_dir / code / "nlu.yml")]


def _signature(intents_dir: Path, codes: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """Identify the training files' versions, so a changed file retrains the model."""
    paths = [intents_dir / code / "nlu.yml" for code in codes]
    return tuple((str(p), p.stat().st_mtime) for p in paths if p.is_file())


@lru_cache(maxsize=4)
def _cached(intents_dir: Path, codes: tuple[str, ...], signature: tuple[tuple[str, float], ...]) -> LanguageModel:
    """Train once per set of training files (each gateway worker trains in about a second)."""
    del signature  # part of the cache key only
    return LanguageModel.train(read_examples(intents_dir, codes))


def language_model_for(intents_dir: Path, codes: Sequence[str]) -> LanguageModel:
    """Return the model trained on the current NLU examples of these languages."""
    return _cached(intents_dir, tuple(codes), _signature(intents_dir, codes))
