"""Risk screen quality on every NLU example and on the unseen set: recall on risk intents, false alarms."""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from bench.nlu import load_examples, unseen_messages
from bot.conversation.risk import screen
from bot.core.settings import ROOT
from bot.language.registry import LanguageRegistry, load_registry

RISK_INTENTS = {"disclose_risk": "urgent", "immediate_danger": "emergency"}


def table(registry: LanguageRegistry, rows: list[tuple[str, str, str]]) -> tuple[list[str], list[str], list[str]]:
    """Per-language recall and false alarms as markdown rows; the misses and false alarms."""
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses, alarms = [], []
    for language, intent, text in rows:
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
    lines = ["| language | recall (risk intents) | emergency recall | false alarms (other intents) |",
             "|---|---|---|---|"]
    for language in sorted(stats):
        row = stats[language]
        lines.append(f"| {language} | {row['caught']}/{row['risk']} | {row['emergency_caught']}/"
                     f"{row['emergency_total']} | {row['alarms']}/{row['other']} |")
    return lines, misses, alarms


def main() -> None:
    """Print (and write) per-language recall and false-alarm rates of the risk screen."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", action="store_true", help="list misses and false alarms")
    args = parser.parse_args()
    registry = load_registry(ROOT / "locales")
    examples = load_examples()
    on_examples, misses, alarms = table(registry, examples)
    on_unseen, _, _ = table(registry, unseen_messages(examples)[0])
    lines = [f"# Risk screen\n\nScreened with every language's patterns as in production, one run "
             f"({time.strftime('%Y-%m-%d %H:%M')}). The model catches most of what the screen misses: "
             "`bench/results/nlu.md` has the escalation rate of both together.\n",
             "## All NLU examples (the patterns were written alongside them)\n", *on_examples,
             "\n## Unseen set (bench/unseen/, written separately)\n", *on_unseen]
    report = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "risk_screen.md").write_text(report, encoding="utf-8")
    print(report)
    if args.show:
        print("\n".join(["MISSES:", *misses, "", "FALSE ALARMS:", *alarms]))


if __name__ == "__main__":
    main()
