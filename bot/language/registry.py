"""Load the languages Lantern speaks and each one's data (keywords, answer words, risk patterns)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from bot.language.text import normalise

KEYWORD_ACTIONS = ("stop", "start", "help", "delete", "exit", "language", "menu")
PRIORITIES = ("emergency", "urgent")


class LanguageDataError(ValueError):
    """A language data file is missing or malformed."""


@dataclass(frozen=True)
class Language:
    """One supported language and its data from locales/<code>/lantern.yml."""

    code: str
    name: str
    script: str
    direction: str
    locale: str
    keywords: dict[str, tuple[str, ...]]  # normalised, as messages are before matching
    risk_patterns: dict[str, tuple[re.Pattern[str], ...]]
    resource_categories: dict[str, tuple[str, ...]]  # normalised
    resource_filters: dict[str, tuple[str, ...]]  # normalised
    detection_markers: frozenset[str] = field(default_factory=frozenset)
    answers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "yes"/"no" -> normalised replies
    choices: dict[int, tuple[str, ...]] = field(default_factory=dict)  # menu number -> its words
    names: tuple[str, ...] = ()  # ways people name this language, normalised
    greetings: tuple[str, ...] = ()
    help_words: tuple[str, ...] = ()
    alarm_words: tuple[str, ...] = ()
    plea_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageRegistry:
    """Every supported language, in menu order, with the default one."""

    languages: tuple[Language, ...]
    default: str

    @cached_property
    def by_code(self) -> dict[str, Language]:
        """Index the languages by code."""
        return {lang.code: lang for lang in self.languages}

    @property
    def codes(self) -> list[str]:
        """List the language codes in menu order."""
        return [lang.code for lang in self.languages]

    def get(self, code: str | None) -> Language:
        """Return a language by code, or the default one."""
        return self.by_code.get(code or "", self.by_code[self.default])

    def alarming(self, text: str, language: str | None) -> bool:
        """Say whether a text's first line names a sensitive subject (in its language or the default)."""
        first_line = f" {normalise(text.strip().split(chr(10), 1)[0])} "
        words = {*self.get(language).alarm_words, *self.get(self.default).alarm_words}
        return any(f" {word} " in first_line for word in words)

    def by_menu_number(self, number: int) -> Language | None:
        """Return the language listed under a language-menu number (1-based)."""
        return self.languages[number - 1] if 1 <= number <= len(self.languages) else None


def _read_yaml(path: Path) -> dict:  # type: ignore[type-arg]
    """Read a YAML mapping or raise an error naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LanguageDataError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise LanguageDataError(f"{path}: expected a mapping at the top level")
    return data


def _word_lists(data: object, path: Path, section: str) -> dict[str, tuple[str, ...]]:
    """Read a mapping of name -> list of words."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LanguageDataError(f"{path}: '{section}' must be a mapping of lists")
    result: dict[str, tuple[str, ...]] = {}
    for name, items in data.items():
        if not isinstance(items, list) or not all(isinstance(i, (str, int)) for i in items):
            raise LanguageDataError(f"{path}: '{section}.{name}' must be a list of words")
        result[str(name)] = tuple(str(i) for i in items)
    return result


def _normalised_lists(data: object, path: Path, section: str) -> dict[str, tuple[str, ...]]:
    """Read a mapping of name -> words, normalised the way messages are before matching."""
    lists = _word_lists(data, path, section)
    return {name: tuple(filter(None, (normalise(word) for word in words))) for name, words in lists.items()}


def _normalised_words(data: object, path: Path, section: str) -> tuple[str, ...]:
    """Read a list of words or phrases, normalised the way messages are before matching."""
    if data is None:
        return ()
    if not isinstance(data, list) or not all(isinstance(i, (str, int)) for i in data):
        raise LanguageDataError(f"{path}: '{section}' must be a list of words")
    return tuple(dict.fromkeys(filter(None, (normalise(str(word)) for word in data))))


def _choices(data: object, path: Path) -> dict[int, tuple[str, ...]]:
    """Read the words for each menu number."""
    lists = _normalised_lists(data, path, "choices")
    try:
        return {int(number): words for number, words in lists.items()}
    except ValueError as exc:
        raise LanguageDataError(f"{path}: 'choices' keys must be menu numbers") from exc


def _risk_patterns(data: object, path: Path) -> dict[str, tuple[re.Pattern[str], ...]]:
    """Compile the risk screen's regular expressions, naming any that fail."""
    lists = _word_lists(data, path, "risk")
    compiled: dict[str, tuple[re.Pattern[str], ...]] = {}
    for priority, patterns in lists.items():
        if priority not in PRIORITIES:
            raise LanguageDataError(f"{path}: unknown risk priority '{priority}'")
        items = []
        for pattern in patterns:
            try:
                items.append(re.compile(pattern))
            except re.error as exc:
                raise LanguageDataError(f"{path}: risk.{priority}: {pattern!r}: {exc}") from exc
        compiled[priority] = tuple(items)
    return compiled


def load_language(entry: dict, locales_dir: Path) -> Language:  # type: ignore[type-arg]
    """Load one language's entry from languages.yml plus its lantern.yml."""
    code = str(entry["code"])
    path = locales_dir / code / "lantern.yml"
    data = _read_yaml(path)
    keywords = _normalised_lists(data.get("keywords"), path, "keywords")
    unknown = set(keywords) - set(KEYWORD_ACTIONS)
    if unknown:
        raise LanguageDataError(f"{path}: unknown keyword actions {sorted(unknown)}")
    markers = data.get("detection_markers") or []
    return Language(
        code=code,
        name=str(entry["name"]),
        script=str(entry.get("script", "Latin")),
        direction=str(entry.get("direction", "ltr")),
        locale=str(entry.get("locale", code)),
        keywords=keywords,
        risk_patterns=_risk_patterns(data.get("risk"), path),
        resource_categories=_normalised_lists(data.get("resource_categories"), path, "resource_categories"),
        resource_filters=_normalised_lists(data.get("resource_filters"), path, "resource_filters"),
        detection_markers=frozenset(str(m).lower() for m in markers),
        answers=_normalised_lists(data.get("answers"), path, "answers"),
        choices=_choices(data.get("choices"), path),
        names=_normalised_words(data.get("names"), path, "names"),
        greetings=_normalised_words(data.get("greetings"), path, "greetings"),
        help_words=_normalised_words(data.get("help_words"), path, "help_words"),
        alarm_words=_normalised_words(data.get("alarm_words"), path, "alarm_words"),
        plea_words=_normalised_words(data.get("plea_words"), path, "plea_words"),
    )


def load_registry(locales_dir: Path) -> LanguageRegistry:
    """Load every language listed in locales/languages.yml."""
    path = locales_dir / "languages.yml"
    data = _read_yaml(path)
    entries = data.get("languages") or []
    if not entries:
        raise LanguageDataError(f"{path}: no languages listed")
    languages = tuple(load_language(entry, locales_dir) for entry in entries)
    default = str(data.get("default", languages[0].code))
    if default not in {lang.code for lang in languages}:
        raise LanguageDataError(f"{path}: default language '{default}' is not listed")
    return LanguageRegistry(languages, default)
