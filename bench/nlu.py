"""NLU quality per language on a held-out split: logistic regression vs DIET, same features."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml
from sklearn.metrics import accuracy_score, f1_score

from bench.common import write_result
from bot.settings import ROOT
from bot.stack import VENV_BIN

FEATURES = [
    {"name": "WhitespaceTokenizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
]
CLASSIFIERS = {
    "LogisticRegression": {"name": "LogisticRegressionClassifier", "max_iter": 300, "random_state": 42},
    "DIET": {"name": "DIETClassifier", "epochs": 100, "random_seed": 42, "entity_recognition": False,
             "constrain_similarities": True},
}
HOLD_OUT = 0.2


def load_examples() -> list[tuple[str, str, str]]:
    """Return (language, intent, text) for every NLU example."""
    rows = []
    for path in sorted((ROOT / "intents").glob("*/nlu.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for block in data.get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    rows.append((path.parent.name, block["intent"], text))
    return rows


def split(rows: list[tuple[str, str, str]], seed: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Hold out 20% of each (language, intent) group."""
    groups: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for row in rows:
        groups[(row[0], row[1])].append(row)
    rng = random.Random(seed)
    train, test = [], []
    for items in groups.values():
        rng.shuffle(items)
        cut = max(1, round(len(items) * HOLD_OUT))
        test += items[:cut]
        train += items[cut:]
    return train, test


def write_nlu(rows: list[tuple[str, str, str]], path: Path) -> None:
    """Write rows as a Rasa NLU file."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for _, intent, text in rows:
        by_intent[intent].append(text)
    blocks = [{"intent": i, "examples": "".join(f"- {t}\n" for t in texts)} for i, texts in by_intent.items()]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True), encoding="utf-8")


def train(workdir: Path, classifier: dict[str, object], train_file: Path) -> tuple[Path, float]:
    """Train an NLU-only model with Rasa; return its path and the wall time."""
    config = {"recipe": "default.v1", "language": "xx", "assistant_id": "bench",
              "pipeline": [*FEATURES, classifier], "policies": []}
    config_path = workdir / f"config-{classifier['name']}.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    name = f"nlu-{classifier['name']}"
    started = time.perf_counter()
    subprocess.run([str(VENV_BIN / "rasa"), "train", "nlu", "--quiet", "--config", str(config_path), "--nlu",
                    str(train_file), "--out", str(workdir), "--fixed-model-name", name], check=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"},
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
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"})
        return time.perf_counter() - started


def language_id_table(rows: list[tuple[str, str, str]]) -> list[str]:
    """Score the gateway's language detection on every 3+ word example."""
    from bot.language_detect import LanguageDetector
    from bot.languages import load_registry

    detector = LanguageDetector(load_registry(ROOT / "locales"))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for language, _, text in rows:
        if len(text.split()) < 3:
            continue
        found = detector.detect(text)
        outcome = ("right" if found.confident and found.language == language else "menu" if not found.confident
                   else "unsupported" if not found.supported else "wrong")
        counts[language][outcome] += 1
    lines = ["\n## Language identification (gateway)\n",
             "3+ word examples (romanized and code-mixed ones included). 'menu': not confident, the person "
             "gets the language menu; 'wrong': confidently another language.\n",
             "| language | examples | right | menu | wrong | unsupported |", "|---|---|---|---|---|---|"]
    for language in sorted(counts):
        c = counts[language]
        total = sum(c.values())
        lines.append(f"| {language} | {total} | {c['right'] / total:.1%} | {c['menu'] / total:.1%} | "
                     f"{c['wrong'] / total:.1%} | {c['unsupported'] / total:.1%} |")
    return lines


def main() -> None:
    """Train both classifiers on the same split and report per-language accuracy and macro-F1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=list(CLASSIFIERS), help="benchmark one classifier")
    args = parser.parse_args()
    rows = load_examples()
    train_rows, test_rows = split(rows, seed=42)
    languages = sorted({r[0] for r in rows})
    lines = [f"# NLU benchmark\n\n{len(rows)} examples in {len(languages)} languages; {len(test_rows)} held out "
             f"(20% of each language x intent, seed 42), one run ({time.strftime('%Y-%m-%d %H:%M')}). "
             "Same features for both: word + char_wb 2-5 gram counts.\n"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        train_file = workdir / "train.yml"
        write_nlu(train_rows, train_file)
        for label, classifier in CLASSIFIERS.items():
            if args.only and label != args.only:
                continue
            model, seconds = train(workdir, classifier, train_file)
            predicted = predict(model, [r[2] for r in test_rows])
            size_mb = model.stat().st_size / 1e6
            lines.append(f"\n## {label}\n\nTraining {seconds:.1f} s, model {size_mb:.1f} MB.\n")
            lines.append("| language | held out | accuracy | macro-F1 |\n|---|---|---|---|")
            for language in languages:
                idx = [i for i, r in enumerate(test_rows) if r[0] == language]
                truth = [test_rows[i][1] for i in idx]
                guess = [predicted[i] for i in idx]
                lines.append(f"| {language} | {len(idx)} | {accuracy_score(truth, guess):.3f} | "
                             f"{f1_score(truth, guess, average='macro', zero_division=0):.3f} |")
            truth = [r[1] for r in test_rows]
            lines.append(f"| all | {len(test_rows)} | {accuracy_score(truth, predicted):.3f} | "
                         f"{f1_score(truth, predicted, average='macro', zero_division=0):.3f} |")
    lines += language_id_table(rows)
    lines.append(f"\nFull production training (`config.yml`, all data and rules): {full_training_seconds():.1f} s.\n")
    write_result("nlu.md", "\n".join(lines))


if __name__ == "__main__":
    main()
