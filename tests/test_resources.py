"""Resource directory: validation, tolerant place matching, geo lookup, filters, e2e in 3 languages."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from redis import Redis

from bot.core.services import Services
from bot.core.store import Keys
from bot.language.segments import count_segments
from bot.resources.directory import DirectoryError, load_directory
from bot.resources.index import DirectoryIndex
from bot.resources.lookup import lookup, shared_gazetteer, words_for
from bot.resources.places import PlaceFinder, match_place
from bot.resources.render import fits_budget, render_listing, resource_replies
from tests.conftest import ROOT, TwilioHarness, new_number

SAMPLE = load_directory(ROOT / "directory")


@pytest.fixture(scope="module")
def finder() -> PlaceFinder:
    """The place finder over the shipped gazetteer and the sample directory's regions."""
    return PlaceFinder.build(shared_gazetteer(ROOT / "intents"), SAMPLE.regions)


@pytest.mark.parametrize(
    ("text", "country", "town"),
    [
        ("i need a lawyer in Mombasa", "", "mombasa"),
        ("nahitaji wakili mombassa", "", "mombasa"),
        ("abogado en mombaza por favor", "", "mombasa"),
        ("je suis à Nairobi", "", "nairobi"),
        ("shelter near nairob", "", "nairobi"),
        ("eastleigh", "GB", "nairobi"),  # the directory's own alias wins over a namesake elsewhere
        ("मोम्बासा में वकील चाहिए", "", "mombasa"),
        ("محامي في نيروبي", "", "nairobi"),
        ("postcode 80100", "", "mombasa"),
        ("nairobi mombasa", "", "nairobi"),
        ("need a lawyer in kisumu", "", "KE:Kisumu"),  # not in the directory: the gazetteer knows it
        ("lawyer kisumo pls", "", "KE:Kisumu"),
        ("Is there a shelter for women in Manchester?", "", "GB:Manchester"),
        ("necesito un abogado en bogota", "", "CO:Bogotá"),
        ("y a un refuge pour femmes a beyrouth ?", "", "LB:Beirut"),
        ("lucknow me koi NGO hai jo migrant workers ki help kare?", "", "IN:Lucknow"),
        ("kualalumpur me shelter", "", "MY:Kuala Lumpur"),
        ("need shelter in jeddha", "", "SA:Jeddah"),
        ("रियाद में भारतीय दूतावास का नंबर दो", "", "SA"),
        ("दोहामा नेपाली दूतावासको नम्बर दिनुस्", "", "doha"),
        ("ঢাকায় কোনো আশ্রয়কেন্দ্র আছে?", "", "BD"),
        ("কুয়ালালামপুরে শ্রমিকদের জন্য আইনি সহায়তা", "", "MY"),
        ("وين مكتب العمل في دبي", "", "AE"),
        ("بالرياض في ملجأ للنساء؟", "", "SA"),
        ("i need help", "", None),
        ("kailangan ko ng abogado, libre sana", "", None),  # "sana" is a word, not Sanaa
        ("tem abrigo perto para mim?", "", None),  # "perto" (near) is not Perth
        ("lima po ang anak ko", "", None),  # "lima" is five in Tagalog
        ("mimi niko hapa na sina pesa", "", None),
        ("where can i find a shelter", "", None),
        ("need a free lawyer, no papers", "", None),
    ],
)
def test_towns_named_anywhere_in_any_script(finder: PlaceFinder, text: str, country: str, town: str | None) -> None:
    """Towns match in any of our scripts, with case endings, typos and aliases; everyday words do not."""
    found = match_place(finder, text, country)
    assert found is not None or town is None, text
    if town is not None and found is not None:
        country, _, name = town.partition(":")
        assert town in (found.region, found.country) or (found.country, found.name) == (country, name), (text, found)
    else:
        assert found is None, (text, found)


def test_ambiguous_town_prefers_the_texters_country(finder: PlaceFinder) -> None:
    """A name shared by several towns means the one in the texter's country, else the biggest."""
    assert finder.towns("shelter in alexandria", "US")[0].place.country == "US"
    assert finder.towns("shelter in alexandria", "")[0].place.country == "EG"


@pytest.mark.parametrize(
    ("text", "countries"),
    [
        ("philippine embassy number in riyadh", ["PH"]),
        ("ubalozi wa kenya riyadh uko wapi", ["KE"]),
        ("ou est l'ambassade du cameroun a riyad", ["CM"]),
        ("رقم السفارة المصرية في الكويت", ["EG", "KW"]),
        ("দিল্লিতে বাংলাদেশী হাই কমিশন কোথায়", ["BD"]),
        ("delhi ma nepali embassy kaha chha", ["NP"]),
        ("saan ang embassy ng pilipinas sa riyadh", ["PH"]),
        ("contact du consulat de cote d'ivoire au koweit", ["CI", "KW"]),
    ],
)
def test_countries_by_name_and_adjective(finder: PlaceFinder, text: str, countries: list[str]) -> None:
    """Countries are found by their name in our languages or by an adjective ("nepali", "المصرية")."""
    assert [m.place.country for m in finder.countries(text)] == countries


def test_place_matching_is_fast(finder: PlaceFinder) -> None:
    """Matching a message against the whole gazetteer takes milliseconds, not seconds."""
    started = time.perf_counter()
    for _ in range(20):
        finder.towns("hello i need a lawyer who knows labour cases in gorakpur or somewhere near", "IN")
    assert (time.perf_counter() - started) / 20 < 0.2


@pytest.fixture
def index(redis_db: Redis) -> DirectoryIndex:
    """The sample directory loaded into the test Redis."""
    idx = DirectoryIndex(redis_db, Keys("lantern-test-res:", "lantern-test-rasa"))
    idx.load(SAMPLE)
    return idx


def test_pin_lookup_is_nearest_first(index: DirectoryIndex) -> None:
    """A location pin in Mombasa lists Mombasa services, nearest first."""
    entries = index.nearest(-4.0600, 39.6650, None, set(), 50)
    assert entries[0]["id"] == "demo-msa-legal"
    assert [e["distance_km"] for e in entries] == sorted(e["distance_km"] for e in entries)


def test_category_and_filters_are_honoured(index: DirectoryIndex) -> None:
    """A 'women only' shelter request returns only women-only shelters."""
    entries = index.nearest(-1.2864, 36.8172, "shelter", {"women_only"}, 50)
    assert entries and all("shelter" in e["categories"] and e["facts"]["women_only"] for e in entries)
    free_medical = index.nearest(-1.2864, 36.8172, "medical", {"free"}, 50)
    assert all(e["facts"].get("free") for e in free_medical)


def test_distance_and_national_entries(index: DirectoryIndex) -> None:
    """Nothing local beyond the radius; national entries are listed by country, embassies by who they represent."""
    assert index.nearest(52.52, 13.40, None, set(), 50) == []
    assert index.nearest(-0.0917, 34.7680, "legal", set(), 50) == []  # Kisumu: Nairobi is 265 km away
    assert [e["id"] for e in index.national("KE", "hotline", set())] == ["demo-ke-hotline"]
    assert [e["id"] for e in index.national("QA", "embassy", set(), "NP")] == ["demo-qa-embassy-np"]
    assert index.national("QA", "embassy", set(), "BD") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("resources: [{name: X, categories: [legal], phone: '+1 555', latitude: 1, longitude: 2}]",
         "bad.yml: resources[0]: field 'id' is required"),
        ("resources: [{id: a, name: X, categories: [spa], phone: '+1 555', latitude: 1, longitude: 2}]",
         "bad.yml: resources[a]: field 'categories': unknown category 'spa'"),
        ("resources: [{id: a, name: X, categories: [legal], phone: 'call us', latitude: 1, longitude: 2}]",
         "bad.yml: resources[a]: field 'phone' is not a phone number"),
        ("country: KE\nresources: [{id: a, name: X, categories: [legal], phone: '+1 555', latitude: 95,"
         " longitude: 2}]", "bad.yml: resources[a]: field 'latitude' is out of range"),
        ("resources: [{id: a, name: X, categories: [legal], phone: '+1 555', latitude: 1, longitude: 2,"
         " facts: {free: maybe}}]", "bad.yml: resources[a]: field 'facts'"),
        ("regions: [{id: r, names: [X], latitude: 1}]", "bad.yml: regions[0]: field 'longitude' is required"),
        ("resources: [{id: a, name: X, categories: [legal], phone: '+1 555', latitude: 1, longitude: 2,"
         " region: atlantis}]", "unknown region 'atlantis'"),
        ("resources: [unclosed", "bad.yml: not valid YAML"),
        ("resources: [{id: a, name: X, categories: [legal], phone: '+1 555', latitude: 1, longitude: 2}]",
         "bad.yml: resources[a]: field 'country' is required"),
        ("country: KEN\nresources: []", "bad.yml: field 'country' must be a two-letter country code"),
        ("country: KE\nresources: [{id: a, name: X, categories: [legal], phone: '+1 555', scope: regional}]",
         "bad.yml: resources[a]: field 'scope' must be local or national"),
        ("country: KE\nresources: [{id: a, name: X, categories: [legal], phone: '+1 555', latitude: 1,"
         " longitude: 2, represents: PH}]", "bad.yml: resources[a]: field 'represents' is only for the embassy"),
        ("country: KE\nresources: [{id: a, name: X, categories: [legal], phone: '+1 555'}]",
         "bad.yml: resources[a]: field 'latitude' is required"),
    ],
)
def test_invalid_files_give_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    """Each invalid entry names the file, the entry and the field."""
    (tmp_path / "bad.yml").write_text(content)
    with pytest.raises(DirectoryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_directory(tmp_path)


def test_national_entries_need_no_position(tmp_path: Path) -> None:
    """A national entry (a hotline for the whole country) is valid without coordinates."""
    (tmp_path / "ok.yml").write_text("country: qa\nresources: [{id: a, name: X, categories: [embassy],"
                                     " phone: '+974 1', scope: national, represents: np}]")
    [entry] = load_directory(tmp_path).resources
    assert (entry.country, entry.scope, entry.represents) == ("QA", "national", "NP")


def test_csv_import_round_trips(tmp_path: Path) -> None:
    """A spreadsheet export becomes a valid directory file, national entries without a position."""
    from bot.resources.csv_import import convert

    csv_path = tmp_path / "list.csv"
    csv_path.write_text(
        "id,name,categories,phone,whatsapp,address,hours,languages,latitude,longitude,region,country,scope,"
        "represents,free,confidential,reports_to_immigration,women_only,accepts_children,walk_in\n"
        "x1,Safe Place,shelter;counselling,+254 700 1,,Main St,24/7,en;sw,-4.05,39.66,,KE,,,yes,yes,no,yes,yes,\n"
        "x2,Embassy of Nepal,embassy,+974 4400 6000,,,,ne,,,,QA,national,NP,,,,,,\n"
    )
    out = tmp_path / "out" / "list.yml"
    convert(csv_path, out)
    directory = load_directory(out.parent)
    entry, embassy = directory.resources
    assert entry.categories == ("shelter", "counselling") and entry.facts["women_only"] is True
    assert "walk_in" not in entry.facts and entry.country == "KE" and entry.scope == "local"
    assert (embassy.scope, embassy.represents, embassy.country) == ("national", "NP", "QA")
    assert yaml.safe_load(out.read_text())["resources"][0]["name"] == "Safe Place"


# --- Lookup: what the first reply to a request is (real Redis, catalogs and gazetteer) ----------

HOTLINE = "+254 800 720 000"
MSA_LAWYER, DOHA_LAWYER, QA_HOTLINE, NP_EMBASSY_DOHA = "+254 700 100 200", "+974 4400 4000", "+974 4400 1000", \
    "+974 4400 6000"


@pytest.fixture
def ask(fast_services: Services) -> Iterator[Callable[..., list[str]]]:
    """Ask the lookup as the action server does; return the rendered messages of the answer."""
    desk = fast_services.desk
    desk.version = ""  # the fast tests empty Redis between tests: load the directory again
    person = "lookup-test-" + secrets.token_hex(4)

    def ask(text: str, country: str = "KE", language: str = "en", more: bool = False, **metadata: object) -> list[str]:
        """Return the texts the person would get for one message."""
        answer = lookup(desk, person, text, {"country": country, "language": language, **metadata}, more,
                        fits_budget(fast_services, language))
        return [render_listing(fast_services, language, arguments) if response == "utter_resources"
                else fast_services.render(response, language)
                for response, arguments in resource_replies(fast_services, language, *answer)]

    yield ask
    fast_services.redis.delete(desk.keys.resource_query(person))


def test_known_town_lists_its_services(ask: Callable[..., list[str]]) -> None:
    """A directory town named in the message lists matching services there at once."""
    [reply] = ask("i need a lawyer in mombasa")
    assert MSA_LAWYER in reply and reply.startswith("Places that can help")


def test_town_not_in_the_directory_is_named_and_gets_the_hotline(ask: Callable[..., list[str]]) -> None:
    """Kisumu (265 km from Nairobi) has no listing: say so plainly, give the hotline and national numbers.

    Before the gazetteer, 'lawyer kisumu' was not a place: the person was asked for their town again."""
    [reply] = ask("lawyer kisumu")
    assert reply.startswith("No listing near Kisumu yet. Hotline " + HOTLINE)
    assert "+254 800 221 000" in reply and "+254 700" not in reply


def test_no_place_gives_the_texters_country_numbers_then_asks(ask: Callable[..., list[str]]) -> None:
    """No place named: the national numbers of the texter's country first, then 'Which town?'."""
    listing, question = ask("i need a lawyer", country="QA")
    assert listing.startswith("Numbers for the whole country:") and QA_HOTLINE in listing
    assert question.startswith("Which town are you in?") and HOTLINE in question


def test_no_place_and_no_national_entries_asks(ask: Callable[..., list[str]]) -> None:
    """A texter from a country with no national entries is asked for the town."""
    [question] = ask("i need a lawyer", country="US")
    assert question.startswith("Which town are you in?") and HOTLINE in question


def test_lookup_embassy_of_a_country_in_a_town(ask: Callable[..., list[str]]) -> None:
    """'Nepal embassy in Doha' lists the entry that represents Nepal, not another embassy."""
    [reply] = ask("where is the nepal embassy in doha")
    assert NP_EMBASSY_DOHA in reply and "+974 4400 8000" not in reply
    [reply] = ask("رقم سفارة نيبال في الدوحة", language="ar")
    assert NP_EMBASSY_DOHA in reply


def test_embassy_serves_the_whole_country(ask: Callable[..., list[str]]) -> None:
    """An embassy (national scope) is listed for any town of its host country."""
    [reply] = ask("philippine embassy in mombasa")
    assert "+254 700 200 400" in reply


def test_lookup_pin_far_from_every_listing(ask: Callable[..., list[str]]) -> None:
    """A location pin in Berlin: no listing near you, the hotline."""
    [reply] = ask("", latitude=52.52, longitude=13.40)
    assert reply.startswith("No listing near you yet. Hotline " + HOTLINE)


def test_a_new_town_replaces_the_remembered_one(ask: Callable[..., list[str]]) -> None:
    """'Dubai' after a Mombasa list is about Dubai, not Mombasa again (the category carries over)."""
    assert MSA_LAWYER in ask("lawyer in mombasa")[0]
    [reply] = ask("and in doha?")
    assert DOHA_LAWYER in reply and MSA_LAWYER not in reply
    [reply] = ask("dubai")
    assert reply.startswith("No listing near Dubai yet") and DOHA_LAWYER not in reply


def test_pages_stay_within_two_segments(ask: Callable[..., list[str]]) -> None:
    """Every page fits in two SMS segments in every script; 'more' shows the next ones."""
    for language, text in (("en", "help in nairobi"), ("hi", "नैरोबी में मदद"), ("ar", "مساعدة في نيروبي"),
                           ("bn", "নাইরোবি সাহায্য"), ("es", "ayuda en nairobi")):
        seen: set[str] = set()
        replies = ask(text, language=language)
        for _ in range(6):
            [reply] = replies
            assert count_segments(reply).segments <= 2, (language, reply)
            seen.update(line for line in reply.splitlines() if "+254" in line)
            replies = ask("", language=language, more=True)
        assert len(seen) >= 5, (language, seen)


def test_filters_that_match_nothing_are_relaxed(ask: Callable[..., list[str]]) -> None:
    """A women-only clinic does not exist in Mombasa: list the clinic (its facts show) rather than nothing."""
    [reply] = ask("clinic for women in mombasa")
    assert "+254 700 100 400" in reply


def test_category_words_with_a_case_ending(fast_services: Services) -> None:
    """'दूतावासको' (of the embassy) asks for an embassy like 'दूतावास' does."""
    assert words_for(fast_services.registry, "दोहामा नेपाली दूतावासको नम्बर दिनुस्", "categories") == ["embassy"]


# --- Through the real stack, in every language ------------------------------------------------

# Per language (menu number): a lawyer in a directory town, in a town not in the directory, in a
# misspelt town, in a town written in another script, with no place, Nepal's embassy in Doha,
# then a lawyer in Doha (a new town after Mombasa).
REQUESTS = {
    "en": (1, "i need a lawyer in mombasa", "i need a lawyer in kisumu", "i need a lawyer in mombaza",
           "i need a lawyer in الدوحة", "i need a lawyer", "where is the nepal embassy in doha",
           "i need a lawyer in doha"),
    "es": (2, "necesito un abogado en mombasa", "necesito un abogado en kisumu", "necesito un abogado en mombaza",
           "necesito un abogado en الدوحة", "necesito un abogado", "donde esta la embajada de nepal en doha",
           "necesito un abogado en doha"),
    "fr": (3, "je cherche un avocat a mombasa", "je cherche un avocat a kisumu", "je cherche un avocat a mombaza",
           "je cherche un avocat a الدوحة", "je cherche un avocat", "ou est l'ambassade du nepal a doha",
           "je cherche un avocat a doha"),
    "pt": (4, "preciso de advogado em mombasa", "preciso de advogado em kisumu", "preciso de advogado em mombaza",
           "preciso de advogado em الدوحة", "preciso de advogado", "onde fica a embaixada do nepal em doha",
           "preciso de advogado em doha"),
    "sw": (5, "nahitaji wakili mombasa", "nahitaji wakili kisumu", "nahitaji wakili mombaza",
           "nahitaji wakili الدوحة", "nataka wakili", "ubalozi wa nepal doha uko wapi", "nahitaji wakili doha"),
    "hi": (6, "मोम्बासा में वकील चाहिए", "दुबई में वकील चाहिए", "mombaza mein vakil chahiye",
           "doha में वकील चाहिए", "मुझे वकील चाहिए", "दोहा में नेपाल दूतावास का नंबर", "दोहा में वकील चाहिए"),
    "ne": (7, "मोम्बासामा वकिल चाहियो", "दुबईमा वकिल चाहियो", "मोम्बासमा वकिल चाहियो", "doha मा वकिल चाहियो",
           "मलाई वकिल चाहियो", "दोहामा नेपाली दूतावासको नम्बर दिनुस्", "दोहामा वकिल चाहियो"),
    "bn": (8, "মোম্বাসায় উকিল লাগবে", "দুবাইয়ে উকিল লাগবে", "মোমবাসায় উকিল লাগবে",
           "doha তে উকিল লাগবে", "উকিল লাগবে", "দোহায় নেপাল দূতাবাস কোথায়", "দোহায় উকিল লাগবে"),
    "tl": (9, "kailangan ko ng abogado sa mombasa", "kailangan ko ng abogado sa kisumu",
           "kailangan ko ng abogado sa mombaza", "kailangan ko ng abogado sa الدوحة", "kailangan ko ng abogado",
           "saan ang embassy ng nepal sa doha", "kailangan ko ng abogado sa doha"),
    "ar": (10, "محتاج محامي في ممباسا", "محتاج محامي في دبي", "محتاج محامي في مومباسة", "محتاج محامي في mombasa",
           "محتاج محامي", "رقم سفارة نيبال في الدوحة", "محتاج محامي في الدوحة"),
}
LANGUAGES = list(REQUESTS)


def start(twilio: TwilioHarness, language: str, sender: str | None = None, whatsapp: bool = False) -> str:
    """Open a conversation and pick a language from the menu; return the sender."""
    sender = sender or new_number()
    twilio.text(sender, "hi", whatsapp=whatsapp)
    twilio.text(sender, str(REQUESTS[language][0]), whatsapp=whatsapp)
    return sender


@pytest.mark.stack
@pytest.mark.parametrize("language", LANGUAGES)
def test_town_named_in_the_message(twilio: TwilioHarness, language: str) -> None:
    """A directory town, a misspelt one and one written in another script are used at once."""
    _, known, _, misspelt, other_script, *_ = REQUESTS[language]
    assert MSA_LAWYER in twilio.text(start(twilio, language), known)[0]
    assert MSA_LAWYER in twilio.text(start(twilio, language), misspelt)[0]
    expected = MSA_LAWYER if language == "ar" else DOHA_LAWYER
    assert expected in twilio.text(start(twilio, language), other_script)[0]


@pytest.mark.stack
@pytest.mark.parametrize("language", LANGUAGES)
def test_town_not_in_the_directory_gets_the_hotline(twilio: TwilioHarness, language: str) -> None:
    """A town the directory does not cover: no listing near it, said plainly, and the hotline."""
    [reply] = twilio.text(start(twilio, language), REQUESTS[language][2])
    assert HOTLINE in reply and "+254 700" not in reply, reply


@pytest.mark.stack
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_place_uses_the_country_of_the_number(twilio: TwilioHarness, language: str) -> None:
    """A Qatari number and no place: Qatar's national numbers in the first reply, then 'Which town?'."""
    qatari = "+9745" + "".join(secrets.choice("0123456789") for _ in range(7))
    replies = twilio.text(start(twilio, language, qatari), REQUESTS[language][5])
    assert QA_HOTLINE in replies[0] and len(replies) == 2 and HOTLINE in replies[-1], replies  # then "Which town?"


@pytest.mark.stack
@pytest.mark.parametrize("language", LANGUAGES)
def test_embassy_of_a_country_in_a_town(twilio: TwilioHarness, language: str) -> None:
    """'Embassy of Nepal in Doha' lists the Nepalese embassy."""
    replies = twilio.text(start(twilio, language), REQUESTS[language][6])
    assert NP_EMBASSY_DOHA in replies[0], replies


@pytest.mark.stack
@pytest.mark.parametrize("language", LANGUAGES)
def test_new_town_replaces_the_remembered_one(twilio: TwilioHarness, language: str) -> None:
    """Doha after a Mombasa list is about Doha."""
    sender = start(twilio, language)
    assert MSA_LAWYER in twilio.text(sender, REQUESTS[language][1])[0]
    [reply] = twilio.text(sender, REQUESTS[language][7])
    assert DOHA_LAWYER in reply and MSA_LAWYER not in reply, reply


@pytest.mark.stack
@pytest.mark.parametrize("language", LANGUAGES)
def test_pin_far_from_every_listing(twilio: TwilioHarness, language: str) -> None:
    """A WhatsApp location in Berlin: nothing near you, the hotline."""
    sender = start(twilio, language, whatsapp=True)
    [reply] = twilio.text(sender, "", whatsapp=True, Latitude="52.52", Longitude="13.40", Address="Berlin")
    assert HOTLINE in reply and "+254 700" not in reply, reply


@pytest.mark.stack
def test_unknown_place_asks_once_then_falls_back(twilio: TwilioHarness) -> None:
    """No place: national numbers and 'Which town?'; a reply with a town lists entries; unknown again: hotline."""
    sender = start(twilio, "en")
    replies = twilio.text(sender, "where can i find a shelter")
    assert len(replies) == 2 and "+254 800 221 000" in replies[0] and HOTLINE in replies[-1], replies
    assert any("Safe House" in r or "Shelter" in r for r in twilio.text(sender, "Mombasa"))
    other = start(twilio, "en")
    twilio.text(other, "i need a doctor")
    assert HOTLINE in twilio.text(other, "atlantis city")[0]


@pytest.mark.stack
def test_location_pin_lists_nearby_help(twilio: TwilioHarness) -> None:
    """A WhatsApp location pin lists services nearest the pin."""
    sender = start(twilio, "en", whatsapp=True)
    replies = twilio.text(sender, "", whatsapp=True, Latitude="-1.2833", Longitude="36.8167", Address="CBD")
    assert any("Nairobi" in r and "+254 700 200" in r for r in replies), replies


def test_the_directory_reloads_itself_when_redis_lost_it(fast_services: Services) -> None:
    """After a Redis flush (or restart) the next lookup finds the directory again."""
    desk = fast_services.desk
    desk.refresh()
    fast_services.redis.flushdb()
    desk.refresh()
    assert desk.index.loaded_version() == desk.version
    assert desk.index.nearest(-4.05, 39.66, "legal", set(), 300)
