"""Translate the console's own interface with Babel, in the ten languages the bot speaks."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import Flask, request, session

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
CONSOLE_LANGUAGES = {"en": "English", "es": "Español", "fr": "Français", "pt": "Português", "sw": "Kiswahili",
                     "hi": "हिन्दी", "ne": "नेपाली", "bn": "বাংলা", "tl": "Tagalog", "ar": "العربية"}
RTL = {"ar"}


@cache
def translations(language: str) -> NullTranslations:
    """Load the console catalog for a language (compiled by `make compile-catalogs`)."""
    if language == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [language])


def console_language() -> str:
    """Return the console language: the session's choice, else the browser's preference."""
    chosen = session.get("console_language")
    if chosen in CONSOLE_LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(list(CONSOLE_LANGUAGES)) or "en"


def console_direction() -> str:
    """Return the text direction of the console language ("rtl" or "ltr")."""
    return "rtl" if console_language() in RTL else "ltr"


def gettext(message: str) -> str:
    """Translate a console message into the current console language."""
    return translations(console_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a console message with a plural form."""
    return translations(console_language()).ngettext(singular, plural, count)


def init_app(app: Flask) -> None:
    """Make gettext available in the console's templates."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    app.jinja_env.globals["console_language"] = console_language
    app.jinja_env.globals["console_direction"] = console_direction
