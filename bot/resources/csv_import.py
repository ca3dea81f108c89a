"""Convert an operator's CSV spreadsheet into a directory YAML file (`make import-resources`)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.resources.directory import FACTS, DirectoryError, load_directory

TRUE, FALSE = {"yes", "y", "true", "1", "si", "ndiyo", "oui"}, {"no", "n", "false", "0", "hapana", "non"}


def _row_to_entry(row: dict[str, str], line: int) -> dict[str, Any]:
    """Turn one CSV row into a directory entry (lists split on ';')."""
    entry: dict[str, Any] = {
        "id": row.get("id", "").strip() or f"row-{line}",
        "name": row.get("name", "").strip(),
        "categories": [c.strip() for c in row.get("categories", "").split(";") if c.strip()],
        "phone": row.get("phone", "").strip(),
    }
    for name in ("whatsapp", "address", "hours", "region", "country", "scope", "represents"):
        if row.get(name, "").strip():
            entry[name] = row[name].strip()
    if row.get("languages", "").strip():
        entry["languages"] = [x.strip() for x in row["languages"].split(";") if x.strip()]
    for name in ("latitude", "longitude"):
        if not row.get(name, "").strip() and entry.get("scope") == "national":
            continue  # a national entry may have no position
        try:
            entry[name] = float(row.get(name, ""))
        except ValueError as exc:
            raise DirectoryError(f"line {line}: field '{name}' is not a number") from exc
    facts = {}
    for fact in FACTS:
        value = row.get(fact, "").strip().lower()
        if value in TRUE:
            facts[fact] = True
        elif value in FALSE:
            facts[fact] = False
        elif value:
            raise DirectoryError(f"line {line}: field '{fact}' must be yes or no")
    if facts:
        entry["facts"] = facts
    return entry


def convert(csv_path: Path, out_path: Path) -> int:
    """Write the CSV's entries as YAML, then validate the result; return the entry count."""
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        entries = [_row_to_entry(row, line) for line, row in enumerate(csv.DictReader(handle), start=2)]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Imported from {csv_path.name}. Edit the spreadsheet and import again, or edit here.\n"
    out_path.write_text(header + yaml.safe_dump({"resources": entries}, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    load_directory(out_path.parent)
    return len(entries)


def main(argv: list[str] | None = None) -> int:
    """Convert CSV to YAML: lantern import-resources list.csv directory/list.yml."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(main.__doc__)
        return 2
    try:
        count = convert(Path(argv[0]), Path(argv[1]))
    except DirectoryError as exc:
        print(f"{argv[0]}: {exc}", file=sys.stderr)
        return 1
    print(f"Imported {count} entries into {argv[1]}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
