"""Understand short replies: menu numbers as words or labels, yes/no, language names, greetings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from bot.conversation.menus import menu_number
from bot.language.registry import Language, LanguageRegistry
from bot.language.text import normalise

# "1 Warning signs" on its own line, or "Reply 1 more, 0 menu" inline.
_LINE_OPTION = re.compile(r"^\s*(\d{1,2})[.)]?\s+(\D.*?)\s*$", re.M)
_INLINE_OPTION = re.compile(r"(?<![\d+])(\d{1,2})\s+([^\d,\n.;:]+)")
MAX_LABEL_WORDS = 5
MAX_ANSWER_WORDS = 4
MAX_PLEA_WORDS = 6
DISTRESS_CALLS = {"sos", "mayday"}  # a plea with these is an emergency, not a request for a person


@dataclass(frozen=True)
class Reading:
    """What a message says before any NLU: a number, a yes/no, a language, a greeting, a help word."""

    number: int | None = None
    yes_no: bool | None = None
    language: str | None = None
    greeting: bool = False
    asks_for_help: bool = False
    only_language: bool = False  # the whole message is a language's name
    plea: bool = False  # only a plea for help, nothing more

    @property
    def short(self) -> bool:
        """Say whether the message is only a short reply (it never escalates by itself)."""
        return self.number is not None or self.yes_no is not None or self.only_language or self.greeting


@dataclass(frozen=True)
class Answers:
    """Word tables of every language, for replies that answer a question or pick from a menu."""

    registry: LanguageRegistry
    _fuzzy_cache: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    def _ordered(self, language: str | None) -> list[Language]:
        """Return the languages with the person's own first."""
        return sorted(self.registry.languages, key=lambda lang: lang.code != language)

    def number(self, text: str, language: str | None, options: dict[int, str] | None = None) -> int | None:
        """Return the menu number a reply means: digits, number words, or an option's label."""
        number = menu_number(text)
        if number is not None:
            return number
        folded = normalise(text)
        if not folded:
            return None
        for lang in self._ordered(language):
            for value, words in lang.choices.items():
                if folded in words:
                    return value
        return label_choice(folded, options or {})

    def yes_no(self, text: str, language: str | None) -> bool | None:
        """Return True for a yes, False for a no (the person's language decides ties), else None.

        A whole listed reply counts; so does a short one made only of words that occur in one
        polarity's replies ("yeah its safe"), never in both.
        """
        folded = normalise(text)
        if not folded:
            return None
        for lang in self._ordered(language):
            if folded in lang.answers.get("yes", ()):
                return True
            if folded in lang.answers.get("no", ()):
                return False
        words = set(folded.split())
        if len(words) > MAX_ANSWER_WORDS:
            return None
        in_yes, in_no = words <= self._vocabulary["yes"], words <= self._vocabulary["no"]
        return True if in_yes and not in_no else False if in_no and not in_yes else None

    @cached_property
    def _vocabulary(self) -> dict[str, set[str]]:
        """Every word used in yes replies and in no replies, in any language."""
        return {side: {word for lang in self.registry.languages for reply in lang.answers.get(side, ())
                       for word in reply.split()} for side in ("yes", "no")}

    @cached_property
    def _names(self) -> dict[str, str]:
        """Map every normalised language name to its language code."""
        table: dict[str, str] = {}
        for lang in self.registry.languages:
            for name in (*lang.names, normalise(lang.name)):
                table.setdefault(name, lang.code)
        return table

    def language_named(self, text: str) -> str | None:
        """Return the language a whole message names ("espanol", "bangla", "arabi"), typos allowed."""
        folded = normalise(text)
        if not folded or len(folded) > 40:
            return None
        if folded in self._names:
            return self._names[folded]
        words = folded.split()
        if 1 < len(words) <= MAX_ANSWER_WORDS:  # "i speak english", "hindi mein baat karo"
            named = {self._names[w] for w in words if w in self._names}
            return named.pop() if len(named) == 1 else None
        if folded not in self._fuzzy_cache:
            self._fuzzy_cache[folded] = self._closest_name(folded)
        return self._fuzzy_cache[folded]

    def _closest_name(self, folded: str) -> str | None:
        """Return the language whose name is one typo away (names of 5+ letters only)."""
        if len(folded) < 5:
            return None
        found = {code for name, code in self._names.items() if len(name) >= 5 and within_one_edit(folded, name)}
        return found.pop() if len(found) == 1 else None

    def is_greeting(self, text: str) -> bool:
        """Say whether a whole message is only a greeting, in any language."""
        folded = normalise(text)
        return bool(folded) and any(folded in lang.greetings for lang in self.registry.languages)

    def asks_for_help(self, text: str) -> bool:
        """Say whether a message contains a word asking for help, in any language."""
        folded = f" {normalise(text)} "
        return any(f" {word} " in folded for lang in self.registry.languages for word in lang.help_words)

    @cached_property
    def _plea_vocabulary(self) -> set[str]:
        """Every word of help words, plea words and greetings, in any language."""
        words = {word for lang in self.registry.languages
                 for phrase in (*lang.help_words, *lang.plea_words, *lang.greetings) for word in phrase.split()}
        return words - DISTRESS_CALLS

    def is_plea(self, text: str) -> bool:
        """Say whether a message is only a plea for help ("help me pls", "tulong po"), saying nothing more."""
        words = normalise(text).split()
        return 0 < len(words) <= MAX_PLEA_WORDS and self.asks_for_help(text) and set(words) <= self._plea_vocabulary

    def read(self, text: str, language: str | None, options: dict[int, str] | None = None,
             language_menu: bool = False) -> Reading:
        """Read a message as a short reply; outside the language menu a yes/no beats a language name."""
        yes_no = self.yes_no(text, language)
        named = self.language_named(text)
        if named is not None and yes_no is not None and not language_menu:
            named = None
        return Reading(
            number=self.number(text, language, options), yes_no=yes_no, language=named,
            greeting=self.is_greeting(text), asks_for_help=self.asks_for_help(text),
            only_language=named is not None and len(normalise(text).split()) == 1, plea=self.is_plea(text),
        )


def menu_options(menu_text: str) -> dict[int, str]:
    """Read the numbered options of a rendered menu ("1 Warning signs", "Reply 1 more, 0 menu")."""
    options = {int(n): normalise(label) for n, label in _LINE_OPTION.findall(menu_text)}
    if not options:
        options = {int(n): normalise(label) for n, label in _INLINE_OPTION.findall(menu_text)}
    return {n: label for n, label in options.items() if label and len(label.split()) <= MAX_LABEL_WORDS * 2}


def label_choice(folded: str, options: dict[int, str]) -> int | None:
    """Return the option whose label a short reply names ("warning signs", "shelter")."""
    if not options or len(folded.split()) > MAX_LABEL_WORDS:
        return None
    exact = [n for n, label in options.items() if folded == label]
    if exact:
        return exact[0]
    padded = f" {folded} "
    starts = [n for n, label in options.items() if len(folded) >= 4 and f" {label} ".startswith(padded)]
    if len(starts) == 1:
        return starts[0]
    inside = [n for n, label in options.items() if len(folded) >= 4 and padded in f" {label} "]
    return inside[0] if len(inside) == 1 else None


def within_one_edit(a: str, b: str) -> bool:
    """Say whether two words differ by at most one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        i, j = diffs[0], diffs[-1] if diffs else 0
        return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            return True
    return False
