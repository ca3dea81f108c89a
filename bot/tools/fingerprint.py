"""Print a short hash of everything a trained model depends on (stdlib only, used by make)."""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The training config, domain and data, and the code of the custom components in config.yml.
INPUTS = ["config.yml", "domain", "intents", "bot/language/text.py", "bot/language/romanize.py",
          "bot/dialogue/tokenizer.py", "bot/dialogue/classifier.py"]


def fingerprint() -> str:
    """Hash everything the model is trained from."""
    digest = hashlib.sha256(b"rasa-3.6.21")
    for name in INPUTS:
        path = ROOT / name
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    """Print the fingerprint."""
    print(fingerprint())
    return 0


if __name__ == "__main__":
    main()
