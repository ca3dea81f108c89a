"""Numbered menus: map a digit to an intent from the menu the person last saw."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_DIGITS = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
# Digits people type in their own script: Devanagari, Bengali, Arabic-Indic, Persian.
_NATIVE_DIGITS = str.maketrans(
    "०१२३४५६७८९০১২৩৪৫৬৭৮৯٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 4
)


def menu_number(text: str) -> int | None:
    """Return the number a message consists of (in any script), or None."""
    match = _DIGITS.match(text.translate(_NATIVE_DIGITS))
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Menus:
    """The numbered choices each reply offers (domain/menus.yml)."""

    menus: dict[str, dict[int, str]]
    default: str
    menu_only_intents: frozenset[str]
    yes_no_menus: dict[str, dict[str, int]]

    @classmethod
    def load(cls, path: Path) -> Menus:
        """Read domain/menus.yml."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        menus = {
            str(name): {int(k): str(v) for k, v in choices.items()}
            for name, choices in data["menus"].items()
        }
        yes_no = {str(name): {str(k): int(v) for k, v in answers.items()}
                  for name, answers in (data.get("yes_no") or {}).items()}
        return cls(menus, str(data["default"]), frozenset(data.get("menu_only_intents", [])), yes_no)

    def choice(self, context: str | None, number: int) -> str | None:
        """Return the intent a number picks in a menu context, else in the main menu."""
        current = self.menus.get(context or self.default, {})
        if number in current:
            return current[number]
        return self.menus[self.default].get(number)

    def yes_no(self, context: str | None) -> dict[str, int]:
        """Return the numbers that mean yes and no in a menu that asks a yes/no question."""
        return self.yes_no_menus.get(context or "", {})

    def has_menu(self, response: str) -> bool:
        """Say whether a response shows numbered choices."""
        return response in self.menus
