"""Check every language's catalog, language data and NLU examples (`make lang-check`)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml
from babel.messages.pofile import read_po

from bot.language.catalogs import Catalogs, needs_neutral_line, placeholders
from bot.language.messages import SOURCE
from bot.language.nlu_data import read_nlu_file
from bot.language.registry import LanguageDataError, LanguageRegistry, load_language, load_registry
from bot.language.segments import count_segments
from webhooks.twilio import sms_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_VALUES = {"hotline": "+254 800 123 456", "emergency": "112", "back_at": "Mon 08:00", "place": "Kuala Lumpur"}
MAX_SEGMENTS = 2
MIN_EXAMPLES = 15
MENU_ONLY_INTENTS_FILE = ROOT / "domain" / "menus.yml"


def nlu_intents() -> list[str]:
    """Return the intents that need NLU examples (all but the menu-only ones)."""
    domain_intents: list[str] = []
    for path in sorted((ROOT / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        domain_intents += [str(i) for i in data.get("intents", [])]
    menu_only: set[str] = set()
    if MENU_ONLY_INTENTS_FILE.exists():
        menus = yaml.safe_load(MENU_ONLY_INTENTS_FILE.read_text(encoding="utf-8")) or {}
        menu_only = set(menus.get("menu_only_intents", []))
    return [i for i in domain_intents if i not in menu_only]


def check_catalog(code: str, registry: LanguageRegistry, problems: list[str], report: list[str]) -> None:
    """Check completeness, fuzziness, placeholders and segment counts of a catalog."""
    path = ROOT / "locales" / code / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        problems.append(f"{code}: missing catalog {path.relative_to(ROOT)}")
        return
    with path.open("rb") as handle:
        catalog = read_po(handle)
    found = {m.context: m for m in catalog if m.id}
    for key, english in SOURCE.items():
        entry = found.get(key)
        if entry is None:
            problems.append(f"{code}: {key}: missing from catalog (run make catalogs)")
            continue
        if entry.fuzzy:
            problems.append(f"{code}: {key}: fuzzy (review the translation, then remove the flag)")
        if entry.id != english:
            problems.append(f"{code}: {key}: catalog is out of date with the English source")
        text = str(entry.string or "")
        if not text.strip():
            problems.append(f"{code}: {key}: untranslated")
            continue
        if placeholders(text) != placeholders(english):
            problems.append(
                f"{code}: {key}: placeholders {sorted(placeholders(text))} "
                f"differ from source {sorted(placeholders(english))}"
            )
            continue
        filled = text.format(**SAMPLE_VALUES)
        if needs_neutral_line(registry, key, filled, code):
            greeting = str(found["discreet_first_line"].string) if "discreet_first_line" in found else ""
            filled = f"{greeting}\n{filled}"  # discreet mode (the default) adds the neutral line
        report.append(channel_row(code, key, filled))
        count = count_segments(sms_text(filled))
        if count.segments > MAX_SEGMENTS:
            problems.append(f"{code}: {key}: {count.segments} SMS segments (max {MAX_SEGMENTS})")


def channel_row(code: str, key: str, text: str) -> str:
    """Return a report line: SMS encoding, units and segments (as sent by SMS), WhatsApp characters."""
    sms = count_segments(sms_text(text))
    return f"{code}\t{key}\t{sms.encoding}\t{sms.units}\t{sms.segments}\t{len(text)}"


REQUIRED_WORDS = ("names", "greetings", "help_words", "alarm_words")


def check_answer_words(registry: LanguageRegistry, problems: list[str]) -> None:
    """Check every language has its short-reply words, and no yes means no anywhere else."""
    every_yes = {word: lang.code for lang in registry.languages for word in lang.answers.get("yes", ())}
    for lang in registry.languages:
        for side in ("yes", "no"):
            if not lang.answers.get(side):
                problems.append(f"{lang.code}: answers.{side}: no words")
        missing = [n for n in range(6) if not lang.choices.get(n)]
        if missing:
            problems.append(f"{lang.code}: choices: no words for {missing}")
        problems += [f"{lang.code}: {section}: no words" for section in REQUIRED_WORDS if not getattr(lang, section)]
        for word in lang.answers.get("no", ()):
            if word in every_yes:
                problems.append(f"{lang.code}: '{word}' is a no here but a yes in {every_yes[word]}")


def check_language_menu(registry: LanguageRegistry, problems: list[str], report: list[str]) -> None:
    """Check the language menu (built from every language's name) fits in the SMS limit."""
    catalogs = Catalogs(ROOT / "locales", registry.codes)
    for lang in registry.languages:
        header = catalogs.render("language_menu_header", lang.code)
        menu = "\n".join([header] + [f"{n} {each.name}" for n, each in enumerate(registry.languages, 1)])
        report.append(channel_row(lang.code, "language_menu", menu))
        segments = count_segments(sms_text(menu)).segments
        if segments > MAX_SEGMENTS:
            problems.append(f"{lang.code}: language menu: {segments} SMS segments (max {MAX_SEGMENTS})")


def check_nlu(code: str, intents: list[str], problems: list[str]) -> None:
    """Check each intent has enough distinct examples in this language."""
    folder = ROOT / "intents" / code
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    for path in sorted(folder.glob("*.yml")):
        try:
            examples = read_nlu_file(path)
        except yaml.YAMLError as exc:
            problems.append(f"{code}: {path.relative_to(ROOT)}: {exc}")
            continue
        for intent, example in examples:
            if example.startswith("/"):
                problems.append(f"{code}: {intent}: example starts with '/': {example}")
            if example.lower() in seen:
                problems.append(f"{code}: {intent}: duplicate example: {example}")
            seen.add(example.lower())
            counts[intent] += 1
    for intent in intents:
        if counts[intent] < MIN_EXAMPLES:
            problems.append(f"{code}: {intent}: {counts[intent]} examples (min {MIN_EXAMPLES})")
    for intent in set(counts) - set(intents):
        problems.append(f"{code}: {intent}: intent not in domain/")


GATEWAY_INTENTS = {"choose_language", "safe_yes", "safe_no"}
# Responses the gateway renders from several sentences (bot/resources/render.py).
RENDERED_FROM_PARTS = {"utter_resources": "resources_header"}


def domain_problems(root: Path = ROOT) -> list[str]:
    """Check domain/: every response has an English source, every menu choice an intent."""
    problems: list[str] = []
    responses: set[str] = set()
    intents: set[str] = set(GATEWAY_INTENTS)
    for path in sorted((root / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        responses |= {str(name) for name in data.get("responses", {}) or {}}
        intents |= {str(name) for name in data.get("intents", []) or []}
    for response in sorted(responses - set(SOURCE) - set(RENDERED_FROM_PARTS)):
        problems.append(f"domain: response {response} has no English sentence in bot/language/messages.py")
    menus = yaml.safe_load((root / "domain" / "menus.yml").read_text(encoding="utf-8"))
    for menu, choices in menus["menus"].items():
        if menu not in responses and menu not in SOURCE:
            problems.append(f"domain: menu {menu} is not a response")
        for number, intent in choices.items():
            if intent not in intents:
                problems.append(f"domain: menu {menu} choice {number} points at unknown intent {intent}")
    for intent in menus.get("menu_only_intents", []):
        if intent not in intents:
            problems.append(f"domain: menu-only intent {intent} is not in domain/")
    return problems


def check_language(
    entry: dict[str, object], registry: LanguageRegistry, intents: list[str], problems: list[str], report: list[str]
) -> None:
    """Run every check for one language."""
    code = str(entry["code"])
    try:
        load_language(entry, ROOT / "locales")
    except (LanguageDataError, KeyError) as exc:
        problems.append(f"{code}: {exc}")
    check_catalog(code, registry, problems, report)
    check_nlu(code, intents, problems)


def main(argv: list[str] | None = None) -> int:
    """Check the languages and print a segment report; exit 1 on any problem."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", action="append", help="check only this language code")
    parser.add_argument("--report", type=Path, help="write segments per message here (TSV)")
    args = parser.parse_args(argv)
    entries = yaml.safe_load((ROOT / "locales" / "languages.yml").read_text(encoding="utf-8"))
    intents = nlu_intents()
    problems: list[str] = domain_problems()
    report = ["language\tkey\tsms_encoding\tsms_units\tsms_segments\twhatsapp_chars"]
    registry = load_registry(ROOT / "locales")
    check_language_menu(registry, problems, report)
    check_answer_words(registry, problems)
    for entry in entries["languages"]:
        if args.lang and entry["code"] not in args.lang:
            continue
        check_language(entry, registry, intents, problems, report)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text("\n".join(report) + "\n", encoding="utf-8")
    for problem in problems:
        print(problem)
    checked = args.lang or [e["code"] for e in entries["languages"]]
    print(f"lang-check: {len(problems)} problem(s) in {', '.join(checked)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
