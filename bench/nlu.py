"""NLU quality per language on a held-out split and an unseen set; language identification."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml
from sklearn.metrics import accuracy_score, f1_score

from bench.common import write_result
from bot.core.settings import ROOT
from bot.language.nlu_data import read_nlu_file
from bot.language.text import normalise
from bot.tools.stack import VENV_BIN

SPELLING_VARIANTS = {"name": "bot.dialogue.tokenizer.SpellingVariantsTokenizer"}
WHITESPACE = {"name": "WhitespaceTokenizer"}
FEATURIZERS = [
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
]
TFIDF_LOGREG = {"name": "bot.dialogue.classifier.TfidfLogisticRegressionClassifier", "random_state": 42}
VARIANTS = {  # label: NLU pipeline
    "production: spelling-variant tokens, tf-idf + logistic regression": [SPELLING_VARIANTS, *FEATURIZERS,
                                                                          TFIDF_LOGREG],
    "whitespace tokens only, tf-idf + logistic regression": [WHITESPACE, *FEATURIZERS, TFIDF_LOGREG],
    "whitespace tokens, counts + Rasa's LogisticRegressionClassifier": [
        WHITESPACE, *FEATURIZERS, {"name": "LogisticRegressionClassifier", "max_iter": 300, "random_state": 42}],
    "DIET (whitespace tokens, counts)": [
        WHITESPACE, *FEATURIZERS, {"name": "DIETClassifier", "epochs": 100, "random_seed": 42,
                                   "entity_recognition": False, "constrain_similarities": True}],
}
FOLDS = 5
# Quiet, no telemetry; each training gets an empty cache so its time is a training from scratch.
FROM_SCRATCH = {"TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}
RISK_INTENTS = {"disclose_risk", "immediate_danger"}


UNSEEN = ROOT / "bench" / "unseen"


def load_examples(paths: list[Path] | None = None) -> list[tuple[str, str, str]]:
    """Return (language, intent, text) for every example of Rasa NLU files (default: intents/*/nlu.yml).

    A file's language is its folder's name (intents/<lang>/nlu.yml) or its stem (bench/unseen/<lang>.yml).
    """
    rows = []
    for path in paths if paths is not None else sorted((ROOT / "intents").glob("*/nlu.yml")):
        language = path.parent.name if path.name == "nlu.yml" else path.stem
        rows += [(language, intent, text) for intent, text in read_nlu_file(path)]
    return rows


def unseen_messages(training: list[tuple[str, str, str]]) -> tuple[list[tuple[str, str, str]], int]:
    """Return the unseen set minus messages that coincide with a training example (after
    normalisation: "hello", "bye"...), and how many were left out."""
    def key(text: str) -> str:
        return " ".join(normalise(text).split())

    known = {key(text) for _, _, text in training}
    messages = load_examples(sorted(UNSEEN.glob("*.yml")))
    kept = [row for row in messages if key(row[2]) not in known]
    return kept, len(messages) - len(kept)


Row = tuple[str, str, str]


def folds(rows: list[Row], k: int, seed: int) -> list[list[Row]]:
    """Deal each (language, intent) group into k folds, shuffled with a seed of its own, so that
    adding examples to one group leaves every other group's folds as they were."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row[0], row[1])].append(row)
    dealt: list[list[Row]] = [[] for _ in range(k)]
    for key in sorted(groups):
        items = groups[key][:]
        random.Random(f"{seed}-{key[0]}-{key[1]}").shuffle(items)
        for i, row in enumerate(items):
            dealt[i % k].append(row)
    return dealt


def split(rows: list[Row], seed: int) -> tuple[list[Row], list[Row]]:
    """Hold out one fifth of each (language, intent) group: the first of five folds."""
    dealt = folds(rows, FOLDS, seed)
    return [row for fold in dealt[1:] for row in fold], dealt[0]


def write_nlu(rows: list[tuple[str, str, str]], path: Path) -> None:
    """Write rows as a Rasa NLU file."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for _, intent, text in rows:
        by_intent[intent].append(text)
    blocks = [{"intent": i, "examples": "".join(f"- {t}\n" for t in texts)} for i, texts in by_intent.items()]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True), encoding="utf-8")


def train(workdir: Path, pipeline: list[dict[str, object]], train_file: Path) -> tuple[Path, float]:
    """Train an NLU-only model with Rasa; return its path and the wall time."""
    config = {"recipe": "default.v1", "language": "xx", "assistant_id": "bench", "pipeline": pipeline,
              "policies": []}
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    name = f"nlu-{time.monotonic_ns()}"
    started = time.perf_counter()
    subprocess.run([str(VENV_BIN / "rasa"), "train", "nlu", "--quiet", "--config", str(config_path), "--nlu",
                    str(train_file), "--out", str(workdir), "--fixed-model-name", name], check=True,
                   env={**os.environ, **FROM_SCRATCH, "RASA_CACHE_DIRECTORY": str(workdir / f"cache-{name}")},
                   stdout=subprocess.DEVNULL)
    return workdir / f"{name}.tar.gz", time.perf_counter() - started


def predict(model: Path, texts: list[str]) -> list[str]:
    """Parse texts with a trained model."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse_all() -> list[str]:
        return [(await agent.parse_message(text))["intent"]["name"] for text in texts]

    return asyncio.run(parse_all())


def full_training_seconds() -> float:
    """Time training of the production model (config.yml, all data, rules) from scratch."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run([str(VENV_BIN / "rasa"), "train", "--quiet", "--config", "config.yml", "--domain", "domain",
                        "--data", "intents", "--out", out], check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                       env={**os.environ, **FROM_SCRATCH, "RASA_CACHE_DIRECTORY": str(Path(out) / "cache")})
        return time.perf_counter() - started


def language_id_table(train_rows: list[tuple[str, str, str]], test_rows: list[tuple[str, str, str]],
                      title: str) -> list[str]:
    """Score the gateway's language detection on 3+ word messages: py3langid and markers alone,
    then with the model trained on the examples (train_rows only)."""
    from bot.language.detect import LanguageDetector
    from bot.language.model import LanguageModel
    from bot.language.registry import load_registry

    registry = load_registry(ROOT / "locales")
    detectors = {
        "py3langid + markers": LanguageDetector(registry),
        "examples model first (production)": LanguageDetector(
            registry, LanguageModel.train((lang, text) for lang, _, text in train_rows)),
    }
    lines = [f"\n## Language identification: {title}\n",
             "3+ word messages. 'menu': not confident, the person gets the language menu; 'wrong': confidently "
             "another supported language; 'unsupported': wrongly called an unsupported language.\n"]
    for label, detector in detectors.items():
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for language, _, text in test_rows:
            if len(text.split()) < 3:
                continue
            found = detector.detect(text)
            outcome = ("right" if found.confident and found.language == language else "menu" if not found.confident
                       else "unsupported" if not found.supported else "wrong")
            counts[language][outcome] += 1
            counts["all"][outcome] += 1
        lines += [f"\n{label}:\n", "| language | messages | right | menu | wrong | unsupported |",
                  "|---|---|---|---|---|---|"]
        for language in [*sorted(set(counts) - {"all"}), "all"]:
            c = counts[language]
            total = sum(c.values())
            lines.append(f"| {language} | {total} | {c['right'] / total:.1%} | {c['menu'] / total:.1%} | "
                         f"{c['wrong'] / total:.1%} | {c['unsupported'] / total:.1%} |")
    listing = (UNSEEN / "unsupported.txt").read_text(encoding="utf-8")
    unsupported = [t.strip() for t in listing.splitlines() if t.strip()]
    lines.append(f"\n{len(unsupported)} messages in languages Lantern does not speak "
                 "(bench/unseen/unsupported.txt):\n")
    lines += ["| detector | unsupported (menu + hotline) | menu | taken for a supported language |",
              "|---|---|---|---|"]
    for label, detector in detectors.items():
        found = [detector.detect(text) for text in unsupported]
        flagged = sum(1 for f in found if not f.supported)
        unsure = sum(1 for f in found if f.supported and not f.confident)
        lines.append(f"| {label} | {flagged} | {unsure} | {len(found) - flagged - unsure} |")
    return lines


def intent_table(label: str, seconds: float, size_mb: float, test_rows: list[tuple[str, str, str]],
                 predicted: list[str]) -> list[str]:
    """Per-language accuracy and macro-F1 of predicted intents."""
    lines = [f"\n### {label}\n\nTraining {seconds:.1f} s (from scratch), model {size_mb:.1f} MB.\n",
             "| language | messages | accuracy | macro-F1 |\n|---|---|---|---|"]
    for language in sorted({r[0] for r in test_rows}):
        idx = [i for i, r in enumerate(test_rows) if r[0] == language]
        truth = [test_rows[i][1] for i in idx]
        guess = [predicted[i] for i in idx]
        lines.append(f"| {language} | {len(idx)} | {accuracy_score(truth, guess):.3f} | "
                     f"{f1_score(truth, guess, average='macro', zero_division=0):.3f} |")
    truth = [r[1] for r in test_rows]
    lines.append(f"| all | {len(test_rows)} | {accuracy_score(truth, predicted):.3f} | "
                 f"{f1_score(truth, predicted, average='macro', zero_division=0):.3f} |")
    return lines + escalation_lines(test_rows, predicted)


def escalation_lines(test_rows: list[tuple[str, str, str]], predicted: list[str]) -> list[str]:
    """Case as in production: the risk screen or a risk intent from the model."""
    from bot.conversation.risk import screen
    from bot.language.registry import load_registry

    registry = load_registry(ROOT / "locales")
    risk = [(row, guess) for row, guess in zip(test_rows, predicted, strict=True) if row[1] in RISK_INTENTS]
    other = [(row, guess) for row, guess in zip(test_rows, predicted, strict=True) if row[1] not in RISK_INTENTS]
    caught = sum(1 for row, guess in risk if guess in RISK_INTENTS or screen(registry, row[2]))
    by_model = sum(1 for _, guess in risk if guess in RISK_INTENTS)
    alarms = sum(1 for row, guess in other if guess in RISK_INTENTS or screen(registry, row[2]))
    return [f"\nEscalation (risk screen or model): {caught}/{len(risk)} risk messages escalated "
            f"({caught / len(risk):.1%}; the model alone {by_model / len(risk):.1%}), "
            f"{alarms}/{len(other)} other messages escalated ({alarms / len(other):.1%})."]


def main() -> None:
    """Held-out split and the unseen set: per-language accuracy and macro-F1; language identification."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--with-diet", action="store_true", help="also train DIET on the split (about 10 minutes)")
    args = parser.parse_args()
    rows = load_examples()
    unseen, coinciding = unseen_messages(rows)
    dealt = folds(rows, FOLDS, seed=42)
    train_rows, test_rows = split(rows, seed=42)
    languages = sorted({r[0] for r in rows})
    lines = [f"# NLU benchmark\n\nOne run ({time.strftime('%Y-%m-%d %H:%M')}); every variant uses word and char_wb "
             "2-5 gram counts.\n",
             f"- **Cross-validation**: {len(rows)} examples in {len(languages)} languages, each (language, intent) "
             f"group dealt into {FOLDS} folds (seed 42); each fold predicted by a model trained on the other four, "
             "so every example is predicted once. The **held-out split** of the alternatives is the first fold "
             f"({len(test_rows)} examples).",
             f"- **Unseen set**: {len(unseen)} messages in bench/unseen/, written separately by other "
             "writers who never saw the training data, never trained on; the model trained on all examples. "
             f"{coinciding} more messages of the set happen to equal a training example (mostly greetings) "
             "and are left out.\n"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        train_file = workdir / "train.yml"
        production, *others = VARIANTS.items()
        lines.append(f"\n## {production[0]}\n")
        truth: list[Row] = []
        guesses: list[str] = []
        seconds: list[float] = []
        for held_out in range(FOLDS):
            write_nlu([row for i, fold in enumerate(dealt) if i != held_out for row in fold], train_file)
            model, took = train(workdir, production[1], train_file)
            truth += dealt[held_out]
            guesses += predict(model, [r[2] for r in dealt[held_out]])
            seconds.append(took)
        lines += intent_table(f"{FOLDS}-fold cross-validation (training time: median fold)", statistics.median(seconds),
                              model.stat().st_size / 1e6, truth, guesses)
        write_nlu(rows, train_file)
        model, took = train(workdir, production[1], train_file)
        lines += intent_table("unseen set", took, model.stat().st_size / 1e6, unseen,
                              predict(model, [r[2] for r in unseen]))
        lines.append("\n## Alternatives, on one split (the first fold held out)\n")
        for label, pipeline in others:
            if label.startswith("DIET") and not args.with_diet:
                continue
            write_nlu(train_rows, train_file)
            model, took = train(workdir, pipeline, train_file)
            lines += intent_table(f"{label}: held-out split", took, model.stat().st_size / 1e6, test_rows,
                                  predict(model, [r[2] for r in test_rows]))
            if label.startswith("DIET"):
                continue
            write_nlu(rows, train_file)
            model, took = train(workdir, pipeline, train_file)
            lines += intent_table(f"{label}: unseen set", took, model.stat().st_size / 1e6, unseen,
                                  predict(model, [r[2] for r in unseen]))
        lines.append("\nThe production pipeline on the same split, for comparison:\n")
        write_nlu(train_rows, train_file)
        model, took = train(workdir, production[1], train_file)
        lines += intent_table(f"{production[0]}: held-out split", took, model.stat().st_size / 1e6, test_rows,
                              predict(model, [r[2] for r in test_rows]))
    lines += language_id_table(train_rows, test_rows, "held-out split")
    lines += language_id_table(rows, unseen, "unseen set")
    lines.append(f"\nFull production training (`config.yml`, all data and rules): {full_training_seconds():.1f} s.\n")
    write_result("nlu.md", "\n".join(lines))


if __name__ == "__main__":
    main()
