"""Print a short hash of everything a trained model depends on (stdlib only, used by make)."""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ["config.yml", "domain", "intents"]


def fingerprint() -> str:
    """Hash the training config, domain and training data."""
    digest = hashlib.sha256(b"rasa-3.6.21")
    for name in INPUTS:
        path = ROOT / name
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


if __name__ == "__main__":
    print(fingerprint())
