"""Load and validate the operator-edited resource directory (directory/*.yml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SCOPES = ("local", "national")
CATEGORIES = ("hotline", "shelter", "legal", "medical", "counselling", "embassy", "labour_office")
FACTS = ("free", "confidential", "reports_to_immigration", "women_only", "accepts_children", "walk_in")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,20}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class DirectoryError(ValueError):
    """A directory file is invalid; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Region:
    """A town or region people may name, with its aliases and centre point."""

    id: str
    names: tuple[str, ...]
    latitude: float
    longitude: float
    postcodes: tuple[str, ...] = ()
    country: str = ""


@dataclass(frozen=True)
class Resource:
    """One service in the directory."""

    id: str
    name: str
    categories: tuple[str, ...]
    phone: str
    latitude: float
    longitude: float
    region: str = ""
    whatsapp: str = ""
    address: str = ""
    hours: str = ""
    languages: tuple[str, ...] = ()
    facts: dict[str, bool] = field(default_factory=dict)
    country: str = ""
    scope: str = "local"
    represents: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the resource as plain data (for Redis and the NLG)."""
        return {
            "id": self.id, "name": self.name, "categories": list(self.categories), "phone": self.phone,
            "whatsapp": self.whatsapp, "address": self.address, "hours": self.hours,
            "languages": list(self.languages), "latitude": self.latitude, "longitude": self.longitude,
            "region": self.region, "facts": dict(self.facts), "country": self.country, "scope": self.scope,
            "represents": self.represents,
        }


@dataclass(frozen=True)
class Directory:
    """Every region and resource from the directory files."""

    regions: tuple[Region, ...]
    resources: tuple[Resource, ...]


def _require(data: dict[str, Any], name: str, where: str, kind: type | tuple[type, ...]) -> Any:
    """Return a required field of an entry or raise an error naming it."""
    if name not in data or data[name] in (None, ""):
        raise DirectoryError(f"{where}: field '{name}' is required")
    if not isinstance(data[name], kind):
        raise DirectoryError(f"{where}: field '{name}' has the wrong type")
    return data[name]


def _coordinate(data: dict[str, Any], name: str, where: str, limit: float) -> float:
    """Return a latitude or longitude within range."""
    value = _require(data, name, where, (int, float))
    if not -limit <= float(value) <= limit:
        raise DirectoryError(f"{where}: field '{name}' is out of range")
    return float(value)


def _country(data: dict[str, Any], name: str, where: str, default: str = "") -> str:
    """Return an ISO 3166 country code field (upper-cased), or the file's default."""
    value = str(data.get(name) or default).strip().upper()
    if value and not _COUNTRY.match(value):
        raise DirectoryError(f"{where}: field '{name}' must be a two-letter country code such as KE")
    return value


def parse_region(data: Any, where: str, default_country: str = "") -> Region:
    """Validate one region entry."""
    if not isinstance(data, dict):
        raise DirectoryError(f"{where}: expected a mapping")
    names = _require(data, "names", where, list)
    return Region(
        id=str(_require(data, "id", where, str)),
        names=tuple(str(n) for n in names),
        latitude=_coordinate(data, "latitude", where, 90),
        longitude=_coordinate(data, "longitude", where, 180),
        postcodes=tuple(str(p) for p in data.get("postcodes") or ()),
        country=_country(data, "country", where, default_country),
    )


def parse_resource(data: Any, where: str, region_ids: set[str], default_country: str = "") -> Resource:
    """Validate one resource entry (a national entry needs no coordinates)."""
    if not isinstance(data, dict):
        raise DirectoryError(f"{where}: expected a mapping")
    entry_id, name = str(_require(data, "id", where, str)), str(_require(data, "name", where, str))
    categories = tuple(str(c) for c in _require(data, "categories", where, list))
    for category in categories:
        if category not in CATEGORIES:
            raise DirectoryError(f"{where}: field 'categories': unknown category '{category}'")
    phone = str(_require(data, "phone", where, (str, int)))
    if not _PHONE.match(phone):
        raise DirectoryError(f"{where}: field 'phone' is not a phone number")
    facts = data.get("facts") or {}
    if not isinstance(facts, dict) or any(k not in FACTS or not isinstance(v, bool) for k, v in facts.items()):
        raise DirectoryError(f"{where}: field 'facts' must map {', '.join(FACTS)} to true/false")
    region = str(data.get("region") or "")
    if region and region not in region_ids:
        raise DirectoryError(f"{where}: field 'region': unknown region '{region}'")
    scope = str(data.get("scope") or "local")
    if scope not in SCOPES:
        raise DirectoryError(f"{where}: field 'scope' must be local or national")
    country = _country(data, "country", where, default_country)
    if not country:
        raise DirectoryError(f"{where}: field 'country' is required (or 'country:' at the top of the file)")
    represents = _country(data, "represents", where)
    if represents and "embassy" not in categories:
        raise DirectoryError(f"{where}: field 'represents' is only for the embassy category")
    located = scope == "local" or data.get("latitude") is not None or data.get("longitude") is not None
    return Resource(
        id=entry_id,
        name=name,
        categories=categories,
        phone=phone,
        latitude=_coordinate(data, "latitude", where, 90) if located else 0.0,
        longitude=_coordinate(data, "longitude", where, 180) if located else 0.0,
        region=region,
        whatsapp=str(data.get("whatsapp") or ""),
        address=str(data.get("address") or ""),
        hours=str(data.get("hours") or ""),
        languages=tuple(str(x) for x in data.get("languages") or ()),
        facts=dict(facts),
        country=country,
        scope=scope,
        represents=represents,
    )


def load_directory(folder: Path) -> Directory:
    """Load every directory/*.yml file, validating each entry."""
    regions: list[Region] = []
    raw_resources: list[tuple[Any, str, str]] = []
    for path in sorted(folder.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise DirectoryError(f"{path.name}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise DirectoryError(f"{path.name}: expected 'regions:' and 'resources:' at the top level")
        country = _country(data, "country", path.name)
        for index, item in enumerate(data.get("regions") or []):
            regions.append(parse_region(item, f"{path.name}: regions[{index}]", country))
        for index, item in enumerate(data.get("resources") or []):
            label = item.get("id", index) if isinstance(item, dict) else index
            raw_resources.append((item, f"{path.name}: resources[{label}]", country))
    region_ids = {r.id for r in regions}
    resources = tuple(parse_resource(item, where, region_ids, country) for item, where, country in raw_resources)
    seen: set[str] = set()
    for resource in resources:
        if resource.id in seen:
            raise DirectoryError(f"duplicate resource id '{resource.id}'")
        seen.add(resource.id)
    return Directory(tuple(regions), resources)


def phone_digits(number: str) -> str:
    """Return a phone number's digits only (to compare two spellings of one number)."""
    return "".join(ch for ch in number if ch.isdigit())
