"""Read the examples of a Rasa NLU training file."""

from __future__ import annotations

from pathlib import Path

import yaml


def read_nlu_file(path: Path) -> list[tuple[str, str]]:
    """Return (intent, text) for every example of one Rasa NLU file (yaml.YAMLError if invalid)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = []
    for block in data.get("nlu", []):
        for line in str(block.get("examples", "")).splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                examples.append((str(block.get("intent")), text))
    return examples
