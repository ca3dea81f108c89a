"""Risk screen quality on every NLU example: recall on risk intents, false alarms elsewhere."""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from bench.nlu import load_examples
from bot.languages import load_registry
from bot.risk import screen
from bot.settings import ROOT

RISK_INTENTS = {"disclose_risk": "urgent", "immediate_danger": "emergency"}


def main() -> None:
    """Print (and write) per-language recall and false-alarm rates of the risk screen."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", action="store_true", help="list misses and false alarms")
    args = parser.parse_args()
    registry = load_registry(ROOT / "locales")
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses, alarms = [], []
    for language, intent, text in load_examples():
        finding = screen(registry, text)
        row = stats[language]
        if intent in RISK_INTENTS:
            row["risk"] += 1
            row["caught"] += finding is not None
            row["emergency_total"] += intent == "immediate_danger"
            row["emergency_caught"] += intent == "immediate_danger" and finding is not None and (
                finding.priority == "emergency")
            if finding is None:
                misses.append(f"{language} {intent}: {text}")
        else:
            row["other"] += 1
            row["alarms"] += finding is not None
            if finding is not None:
                alarms.append(f"{language} {intent} -> {finding.priority} ({finding.language}): {text}")
    lines = [f"# Risk screen\n\nAll NLU examples, screened with every language's patterns as in production, "
             f"one run ({time.strftime('%Y-%m-%d %H:%M')}).\n",
             "| language | recall (risk intents) | emergency recall | false alarms (other intents) |",
             "|---|---|---|---|"]
    for language in sorted(stats):
        row = stats[language]
        lines.append(f"| {language} | {row['caught']}/{row['risk']} | {row['emergency_caught']}/"
                     f"{row['emergency_total']} | {row['alarms']}/{row['other']} |")
    report = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "risk_screen.md").write_text(report, encoding="utf-8")
    print(report)
    if args.show:
        print("\n".join(["MISSES:", *misses, "", "FALSE ALARMS:", *alarms]))


if __name__ == "__main__":
    main()
