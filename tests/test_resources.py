"""Resource directory: validation, tolerant place matching, geo lookup, filters, e2e in 3 languages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from redis import Redis

from bot.core.store import Keys
from bot.resources.directory import DirectoryError, load_directory
from bot.resources.index import DirectoryIndex
from bot.resources.places import match_place
from tests.conftest import ROOT, Stack, TwilioHarness, new_number

SAMPLE = load_directory(ROOT / "directory")


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("i need a lawyer in Mombasa", "mombasa"),
        ("nahitaji wakili mombassa", "mombasa"),
        ("abogado en mombaza por favor", "mombasa"),
        ("je suis à Nairobi", "nairobi"),
        ("shelter near nairob", "nairobi"),
        ("eastleigh", "nairobi"),
        ("मोम्बासा में वकील चाहिए", "mombasa"),
        ("محامي في نيروبي", "nairobi"),
        ("postcode 80100", "mombasa"),
        ("i need help", None),
        ("nairobi mombasa", "nairobi"),
    ],
)
def test_typed_places_with_typos_aliases_and_scripts(text: str, region: str | None) -> None:
    """Town names match with typos, missing accents, aliases in other scripts and postcodes."""
    found = match_place(SAMPLE.regions, text)
    assert (found.id if found else None) == region


@pytest.fixture
def index(redis_db: Redis) -> DirectoryIndex:
    """The sample directory loaded into the test Redis."""
    idx = DirectoryIndex(redis_db, Keys("lantern-test-res:", "lantern-test-rasa"))
    idx.load(SAMPLE)
    return idx


def test_pin_lookup_is_nearest_first(index: DirectoryIndex) -> None:
    """A location pin in Mombasa lists Mombasa services, nearest first."""
    entries, _ = index.nearest(-4.0600, 39.6650, None, set(), 0, 3)
    assert entries[0]["id"] == "demo-msa-legal"
    assert [e["distance_km"] for e in entries] == sorted(e["distance_km"] for e in entries)


def test_category_and_filters_are_honoured(index: DirectoryIndex) -> None:
    """A 'women only' shelter request returns only women-only shelters."""
    entries, _ = index.nearest(-1.2864, 36.8172, "shelter", {"women_only"}, 0, 3)
    assert entries and all("shelter" in e["categories"] and e["facts"]["women_only"] for e in entries)
    free_medical, _ = index.nearest(-1.2864, 36.8172, "medical", {"free"}, 0, 3)
    assert all(e["facts"].get("free") for e in free_medical)


def test_paging_and_empty_results(index: DirectoryIndex) -> None:
    """Pages follow each other; far away there is nothing."""
    first, more = index.nearest(-4.0435, 39.6682, None, set(), 0, 3)
    second, _ = index.nearest(-4.0435, 39.6682, None, set(), 3, 3)
    assert more and not {e["id"] for e in first} & {e["id"] for e in second}
    assert index.nearest(52.52, 13.40, None, set(), 0, 3) == ([], False)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("resources: [{name: X, categories: [legal], phone: '+1 555', latitude: 1, longitude: 2}]",
         "bad.yml: resources[0]: field 'id' is required"),
        ("resources: [{id: a, name: X, categories: [spa], phone: '+1 555', latitude: 1, longitude: 2}]",
         "bad.yml: resources[a]: field 'categories': unknown category 'spa'"),
        ("resources: [{id: a, name: X, categories: [legal], phone: 'call us', latitude: 1, longitude: 2}]",
         "bad.yml: resources[a]: field 'phone' is not a phone number"),
        ("resources: [{id: a, name: X, categories: [legal], phone: '+1 555', latitude: 95, longitude: 2}]",
         "bad.yml: resources[a]: field 'latitude' is out of range"),
        ("resources: [{id: a, name: X, categories: [legal], phone: '+1 555', latitude: 1, longitude: 2,"
         " facts: {free: maybe}}]", "bad.yml: resources[a]: field 'facts'"),
        ("regions: [{id: r, names: [X], latitude: 1}]", "bad.yml: regions[0]: field 'longitude' is required"),
        ("resources: [{id: a, name: X, categories: [legal], phone: '+1 555', latitude: 1, longitude: 2,"
         " region: atlantis}]", "unknown region 'atlantis'"),
        ("resources: [unclosed", "bad.yml: not valid YAML"),
    ],
)
def test_invalid_files_give_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    """Each invalid entry names the file, the entry and the field."""
    (tmp_path / "bad.yml").write_text(content)
    with pytest.raises(DirectoryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_directory(tmp_path)


def test_csv_import_round_trips(tmp_path: Path) -> None:
    """A spreadsheet export becomes a valid directory file."""
    from bot.resources.csv_import import convert

    csv_path = tmp_path / "list.csv"
    csv_path.write_text(
        "id,name,categories,phone,whatsapp,address,hours,languages,latitude,longitude,region,free,confidential,"
        "reports_to_immigration,women_only,accepts_children,walk_in\n"
        "x1,Safe Place,shelter;counselling,+254 700 1,,Main St,24/7,en;sw,-4.05,39.66,,yes,yes,no,yes,yes,\n"
    )
    out = tmp_path / "out" / "list.yml"
    convert(csv_path, out)
    directory = load_directory(out.parent)
    [entry] = directory.resources
    assert entry.categories == ("shelter", "counselling") and entry.facts["women_only"] is True
    assert "walk_in" not in entry.facts
    assert yaml.safe_load(out.read_text())["resources"][0]["name"] == "Safe Place"


@pytest.mark.stack
@pytest.mark.parametrize(
    ("language_number", "text"),
    [
        (1, "i need a lawyer in mombasa"),
        (5, "nahitaji wakili wa bure mombasa"),
        (3, "je cherche un avocat à Nairobi"),
        (2, "necesito un abogado en nairobi"),
    ],
)
def test_resource_request_end_to_end(twilio: TwilioHarness, stack: Stack, language_number: int, text: str) -> None:
    """A resource request through the real stack lists entries with phone numbers."""
    sender = new_number()
    twilio.text(sender, "hi")
    twilio.text(sender, str(language_number))
    replies = twilio.text(sender, text)
    assert any("+254" in r and "\n1 " in r for r in replies), replies


@pytest.mark.stack
def test_unknown_place_asks_once_then_falls_back(twilio: TwilioHarness) -> None:
    """No place known: ask which town; a reply with a town lists entries; unknown again: hotline."""
    sender = new_number()
    twilio.text(sender, "hi")
    twilio.text(sender, "1")
    assert twilio.text(sender, "where can i find a shelter")[0].startswith("Which town are you in?")
    assert any("Safe House" in r or "Shelter" in r for r in twilio.text(sender, "Mombasa"))
    other = new_number()
    twilio.text(other, "hi")
    twilio.text(other, "1")
    twilio.text(other, "i need a doctor")
    assert "+254 800 720 000" in twilio.text(other, "atlantis city")[0]


@pytest.mark.stack
def test_location_pin_lists_nearby_help(twilio: TwilioHarness) -> None:
    """A WhatsApp location pin lists services nearest the pin."""
    sender = new_number()
    twilio.text(sender, "hi", whatsapp=True)
    twilio.text(sender, "1", whatsapp=True)
    replies = twilio.text(sender, "", whatsapp=True, Latitude="-1.2833", Longitude="36.8167", Address="CBD")
    assert any("Nairobi" in r and "+254" in r for r in replies), replies
