"""Unit tests of the small pieces: segments, normalisation, menus, hours, settings, parsing."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl

import pytest

from bot.conversation.menus import Menus, menu_number
from bot.core.settings import ROOT, Settings, SettingsError
from bot.handoff.hours import HoursError, OperatingHours
from bot.language.segments import count_segments
from bot.language.text import normalise
from tests.test_webhook import BUTTON, LOCATION, MEDIA, SMS, WHATSAPP
from webhooks.base import MalformedRequest
from webhooks.twilio import adapter_for_form


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("€" * 80, "GSM-7", 1),
        ("€" * 81, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),
        ("ó" * 70, "UCS-2", 1),
        ("ó" * 71, "UCS-2", 2),
        ("नमस्ते" * 22, "UCS-2", 2),
        ("👋" * 35, "UCS-2", 1),
        ("👋" * 36, "UCS-2", 2),
    ],
)
def test_segment_counting(text: str, encoding: str, segments: int) -> None:
    """GSM-7 is 160/153 (extension chars count twice), UCS-2 70/67 (emoji count twice)."""
    count = count_segments(text)
    assert (count.encoding, count.segments) == (encoding, segments)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("PASAPORTÉ!!", "pasaporte"),
        ("मेरा पासपोर्ट ले लिया", "मेरा पासपोर्ट ले लिया"),
        ("الكفيل أخذ جوازي", "الكفيل اخذ جوازي"),
        ("আমার পাসপোর্ট", "আমার পাসপোর্ট"),
        ("can't   leave…", "can t leave"),
        ("Ça va? 👋", "ca va"),
    ],
)
def test_normalise(raw: str, folded: str) -> None:
    """Latin accents and Arabic forms fold; Indic vowel signs survive."""
    assert normalise(raw) == folded


@pytest.mark.parametrize(("text", "number"), [("1", 1), (" 2 ", 2), ("3.", 3), ("١", 1), ("२", 2), ("৪", 4),
                                              ("10", 10), ("1 2", None), ("one", None), ("", None)])
def test_menu_numbers_in_any_script(text: str, number: int | None) -> None:
    """Digits typed in Latin, Arabic-Indic, Devanagari or Bengali all count."""
    assert menu_number(text) == number


def test_menu_choice_falls_back_to_the_main_menu() -> None:
    """A digit the last menu does not offer picks from the main menu."""
    menus = Menus.load(ROOT / "domain" / "menus.yml")
    assert menus.choice("utter_signs_1", 1) == "signs_page_2"
    assert menus.choice("utter_signs_1", 2) == "get_help"
    assert menus.choice(None, 3) == "ask_human"


def test_operating_hours_and_holidays() -> None:
    """Open on weekdays 8-18 in Nairobi, closed on a holiday, next opening computed."""
    hours = OperatingHours.parse("Mon-Fri 08:00-18:00", "Africa/Nairobi", ("2026-12-25",))
    tuesday_noon = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # 12:00 in Nairobi
    assert hours.is_open(tuesday_noon)
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)
    assert not hours.is_open(saturday)
    assert hours.next_opening(saturday) == datetime(2026, 12, 7, 8, 0, tzinfo=hours.zone)
    assert not hours.is_open(datetime(2026, 12, 25, 9, 0, tzinfo=timezone.utc))
    with pytest.raises(HoursError):
        OperatingHours.parse("weekdays 9 to 5", "UTC")


def test_settings_from_environment() -> None:
    """Every setting comes from the environment, typed; unsafe values are refused."""
    settings = Settings.from_env({"RATE_LIMIT_PER_MINUTE": "7", "DISCREET_MODE": "yes",
                                  "ONCALL_NUMBERS": "+1555, +1666", "RASA_TIMEOUT_SECONDS": "2.5"})
    assert settings.rate_limit_per_minute == 7 and settings.discreet_mode
    assert settings.oncall_numbers == ("+1555", "+1666") and settings.rasa_timeout_seconds == 2.5
    with pytest.raises(SettingsError):
        Settings.from_env({"SAFE_CONTACT_WINDOW_SECONDS": str(48 * 3600)})
    with pytest.raises(SettingsError):
        Settings.from_env({"RATE_LIMIT_PER_MINUTE": "many"})


def test_env_example_documents_every_setting() -> None:
    """.env.example names every field of Settings."""
    from dataclasses import fields

    documented = (ROOT / ".env.example").read_text()
    for item in fields(Settings):
        if item.name not in {"testing", "locales_dir", "intents_dir", "resources_dir"}:
            assert f"{item.name.upper()}=" in documented, item.name


def form(template: str, body: str = "hello") -> dict[str, str]:
    """Fill a raw Twilio template and parse it like Flask would."""
    raw = template.format(sid="SM" + "c" * 32, sender="%2B254711000000", waid="254711000000", body=body)
    return dict(parse_qsl(raw, keep_blank_values=True))


def test_adapters_parse_every_field_we_use() -> None:
    """SMS, WhatsApp text, media, location and button payloads become InboundMessages."""
    sms = adapter_for_form(form(SMS)).parse(form(SMS))
    assert (sms.channel, sms.sender, sms.recipient, sms.text) == ("sms", "+254711000000", "+254700999000", "hello")
    wa = adapter_for_form(form(WHATSAPP)).parse(form(WHATSAPP))
    assert (wa.channel, wa.sender, wa.profile_name) == ("whatsapp", "+254711000000", "Amina")
    media = adapter_for_form(form(MEDIA)).parse(form(MEDIA))
    assert media.media[0].content_type == "image/jpeg" and media.media[0].url.startswith("https://api.twilio.com/")
    pin = adapter_for_form(form(LOCATION)).parse(form(LOCATION))
    assert pin.location is not None and (pin.location.latitude, pin.location.label) == (-4.0435, "Work")
    button = adapter_for_form(form(BUTTON)).parse(form(BUTTON))
    assert button.reply_text == "1"
    assert "[image/jpeg]" in media.transcript_text()


def test_adapter_rejects_out_of_range_coordinates() -> None:
    """A latitude beyond 90 is malformed."""
    bad = form(LOCATION.replace("Latitude=-4.0435", "Latitude=-94"))
    with pytest.raises(MalformedRequest):
        adapter_for_form(bad).parse(bad)


def test_twiml_reply_escapes_text() -> None:
    """Replies are valid TwiML even with markup characters in them."""
    adapter = adapter_for_form({"From": "+1"})
    twiml = adapter.render_reply(["a < b & c", "العربية"])
    assert "a &lt; b &amp; c" in twiml and "<Message>العربية</Message>" in twiml


def test_the_model_fingerprint_covers_every_custom_component() -> None:
    """Changing a custom Rasa component's code retrains the model (make train keys on the fingerprint)."""
    import yaml

    from bot.tools.fingerprint import INPUTS

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    custom = [step["name"] for step in pipeline if step["name"].startswith("bot.")]
    assert custom
    for name in custom:
        assert name.rsplit(".", 1)[0].replace(".", "/") + ".py" in INPUTS, name
