"""Render user-facing sentences from the Babel catalogs in locales/."""

from __future__ import annotations

import logging
import string
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot.language.messages import SOURCE
from bot.language.registry import LanguageRegistry

log = logging.getLogger(__name__)
DOMAIN = "messages"

# Fragments and labels are parts of other replies: they never get a first line of their own.
NOT_DISCREET_PREFIXED = ("category_", "fact_", "resources_", "discreet_")


def needs_neutral_line(registry: LanguageRegistry, key: str, text: str, language: str) -> bool:
    """Say whether a rendered reply's first line names a sensitive subject (discreet mode then puts
    a neutral greeting before it); fragments of other replies never get one."""
    return not key.startswith(NOT_DISCREET_PREFIXED) and registry.alarming(text, language)


class _Defaults(dict):  # type: ignore[type-arg]
    """Leave unknown placeholders as they are instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def placeholders(text: str) -> set[str]:
    """Return the names of the {placeholders} in a sentence."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_translations(locales_dir: Path, code: str, domain: str = DOMAIN) -> NullTranslations:
    """Load a compiled catalog, compiling the .po in memory when the .mo is stale."""
    po_path = locales_dir / code / "LC_MESSAGES" / f"{domain}.po"
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and (not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime):
        with mo_path.open("rb") as handle:
            return Translations(handle, domain=domain)
    if not po_path.exists():
        log.warning("catalog missing", extra={"language": code})
        return NullTranslations()
    import io

    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=None)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


class Catalogs:
    """Every language's compiled catalog, rendering response keys to text."""

    def __init__(self, locales_dir: Path, codes: list[str]) -> None:
        self._translations = {code: load_translations(locales_dir, code) for code in codes}

    def has(self, key: str) -> bool:
        """Say whether a response key exists in the English source."""
        return key in SOURCE

    def text(self, key: str, language: str) -> str:
        """Return the raw translated sentence for a key, English when untranslated."""
        english = SOURCE[key]
        translations = self._translations.get(language)
        if translations is None:
            return english
        return str(translations.pgettext(key, english))

    def render(self, key: str, language: str, **values: object) -> str:
        """Return a key's sentence in a language with its placeholders filled."""
        return self.text(key, language).format_map(_Defaults(values))
