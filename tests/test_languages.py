"""Languages: catalog checks, data-only languages, unseen messages in all ten, exact scripts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.conversation.risk import screen
from bot.core.services import get_services
from bot.language import check as lang_check
from bot.language.detect import LanguageDetector
from bot.language.model import language_model_for
from bot.language.registry import load_registry
from bot.language.text import normalise
from tests.conftest import ROOT, Stack, TwilioHarness, make_settings, new_number, reply_languages, stack_settings

REGISTRY = load_registry(ROOT / "locales")
DETECTOR = LanguageDetector(REGISTRY, language_model_for(ROOT / "intents", REGISTRY.codes))

# Messages written for these tests, not copied from intents/: (language, text).
UNSEEN = [
    ("en", "hey how do i check if an agency is legit before i pay them"),
    ("en", "do i need to tell u my name if i call"),
    ("es", "hola quisiera saber q derechos tengo como trabajadora de casa"),
    ("es", "como se si la agencia q me ofrece trabajo en españa es real"),
    ("fr", "bonjour comment savoir si une offre de travail a l etranger est une arnaque"),
    ("fr", "est ce que je dois donner mon nom si j appelle"),
    ("pt", "ola como sei se a agencia de emprego no exterior e confiavel"),
    ("pt", "quais sao os meus direitos como empregada domestica"),
    ("sw", "habari nataka kujua dalili za biashara haramu ya binadamu"),
    ("sw", "nina haki gani kama mfanyakazi wa nyumbani huko saudia"),
    ("hi", "विदेश में नौकरी से पहले एजेंट की जांच कैसे करें"),
    ("hi", "bhai mujhe apne adhikar ke baare mein batao kaam pe"),
    ("ne", "विदेश जानु अघि म्यानपावर कम्पनी कसरी जाँच गर्ने"),
    ("ne", "कामदारको अधिकार के के हुन्छ मलाई बताउनुस्"),
    ("bn", "বিদেশে কাজে যাওয়ার আগে দালাল যাচাই করব কিভাবে"),
    ("bn", "গৃহকর্মী হিসেবে আমার কি কি অধিকার আছে"),
    ("tl", "paano ko malalaman kung legit yung agency bago ako magbayad"),
    ("tl", "ano po ba ang mga karapatan ko bilang kasambahay"),
    ("ar", "كيف اعرف ان مكتب التوظيف حقيقي قبل السفر"),
    ("ar", "ما هي حقوقي كعاملة منزلية في الخليج"),
    # Written in Latin letters: answered in the language, in its own script.
    ("ne", "videsh jana agent lai kasari check garne hola"),
    ("bn", "bidesh jawar age dalal ke kivabe jachai korbo"),
    ("ar", "ana 3ayez a3raf 7o2o2y ka 3amel fel khaleeg"),
]


def test_every_language_passes_the_checks() -> None:
    """Completeness, placeholders, SMS segments and NLU examples for every language."""
    assert lang_check.main(["--report", str(ROOT / "bench" / "results" / "segments.tsv")]) == 0


def test_ten_languages_are_supported() -> None:
    """The launch set is configured."""
    assert REGISTRY.codes == ["en", "es", "fr", "pt", "sw", "hi", "ne", "bn", "tl", "ar"]


def test_menus_keep_the_same_digits_in_every_language() -> None:
    """Each numbered menu offers the same digits in the same order everywhere."""
    import re

    from bot.language.catalogs import Catalogs

    catalogs = Catalogs(ROOT / "locales", REGISTRY.codes)
    for key in ("utter_main_menu", "utter_get_help", "utter_not_understood", "utter_safety_check"):
        english = re.findall(r"(?m)(?:^|\s)(\d)\s", catalogs.text(key, "en"))
        for code in REGISTRY.codes:
            assert re.findall(r"(?m)(?:^|\s)(\d)\s", catalogs.text(key, code)) == english, (key, code)


@pytest.mark.parametrize(("language", "text"), UNSEEN, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(UNSEEN)])
def test_unseen_messages_are_not_training_copies(language: str, text: str) -> None:
    """The end-to-end language tests use messages the model never saw."""
    examples = (ROOT / "intents" / language / "nlu.yml").read_text(encoding="utf-8")
    assert f"- {text}\n" not in examples


def test_the_unseen_benchmark_set_is_never_trained_on() -> None:
    """bench/unseen/ measures messages never trained on: any that equal a training example are left out."""
    from bench.nlu import load_examples, unseen_messages

    training = {normalise(text) for _, _, text in load_examples()}
    kept, coinciding = unseen_messages(load_examples())
    assert len(kept) >= 1000 and coinciding < len(kept) / 5
    assert not [text for _, _, text in kept if normalise(text) in training]


@pytest.mark.stack
@pytest.mark.parametrize(("language", "text"), UNSEEN, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(UNSEEN)])
def test_first_contact_is_answered_in_the_texters_language(twilio: TwilioHarness, stack: Stack,
                                                             language: str, text: str) -> None:
    """A 3+ word first message is answered in its own language."""
    replies = twilio.text(new_number(), text)
    assert replies and language in reply_languages(stack, replies[0]), replies


@pytest.mark.stack
def test_arabic_and_devanagari_survive_byte_for_byte(twilio: TwilioHarness, stack: Stack) -> None:
    """User text reaches the case transcript unchanged; replies equal the catalog text exactly."""
    samples = (("الكفيل أخذ جوازي ولا يسمح لي بالخروج", "ar"),
               ("मालिक ने मेरा पासपोर्ट ले लिया और मुझे बाहर नहीं जाने देता", "hi"))
    for text, language in samples:
        sender = new_number()
        replies = twilio.text(sender, text)
        with stack.app.app_context():
            svc = get_services()
            case = svc.cases.current_for(svc.person_id(sender))
            assert case is not None and case.language == language
            turns = svc.cases.transcript(case.id)
            assert any(turn["text"] == text for turn in turns)
            assert replies[0] == svc.render(f"utter_escalate_{case.priority}", language)
            assert replies[0].encode("utf-8") == svc.render(f"utter_escalate_{case.priority}", language).encode()
    [menu] = twilio.text(new_number(), "hi")
    assert "10 العربية" in menu and "6 हिन्दी" in menu


def test_arabic_numbers_are_isolated_left_to_right() -> None:
    """Phone numbers inside Arabic replies are wrapped in LTR isolates so they do not reverse."""
    from bot.app import create_app

    app = create_app(make_settings(log_level="WARNING"))
    with app.app_context():
        text = get_services().render("utter_report", "ar")
    assert "\u2066+254 800 720 000\u2069" in text


# First messages written for these tests (not in intents/): romanized, code-mixed, no accents.
DETECTION_SAMPLES = [
    ("ne", "malai ghar farkina dinna sahuji le"),
    ("ne", "mero didi lai kam garauchan tara paisa dindainan"),
    ("hi", "seth paisa nahi de raha teen mahine se"),
    ("hi", "mujhe wapas ghar jana hai par agent mana kar raha"),
    ("pt", "meu patrao nao quer me pagar faz dois meses"),
    ("es", "mi patron no me quiere pagar hace dos meses"),
    ("sw", "bosi hanilipi mshahara miezi mitatu sasa"),
    ("tl", "di ako pinapasweldo ng amo ko tatlong buwan na"),
    ("fr", "mon patron veut pas me payer depuis deux mois"),
    ("en", "my boss not paying me since two months"),
    ("bn", "malik amake taka dicche na tin mash dhore"),
    ("ar", "el kafil mesh 3ayez yedfa3li el flous"),
]


@pytest.mark.parametrize(("language", "text"), DETECTION_SAMPLES)
def test_first_messages_are_detected_in_their_language(language: str, text: str) -> None:
    """The model trained on each language's own examples recognises romanized and unaccented texts."""
    found = DETECTOR.detect(text)
    assert (found.language, found.confident, found.supported) == (language, True, True)


@pytest.mark.parametrize("text", ["ich arbeite seit drei monaten ohne lohn bitte hilfe",
                                  "il mio datore di lavoro non mi paga da mesi",
                                  "patronum pasaportumu aldı ve maaş vermiyor",
                                  "Мне нужна помощь, хозяин забрал паспорт"])
def test_unsupported_languages_are_not_taken_for_supported_ones(text: str) -> None:
    """A message in a language Lantern does not speak is never answered as if it were one."""
    found = DETECTOR.detect(text)
    assert not (found.supported and found.confident), found


def test_short_messages_are_never_confident() -> None:
    """1-2 words, digits and emoji never pick or switch a language."""
    for text in ("gracias", "ok bye", "3", "🙏🙏", "asante sana"):
        assert not DETECTOR.detect(text).confident, text


def test_the_language_model_retrains_when_examples_change(tmp_path: Path) -> None:
    """An operator's new examples are used without a code change (files are re-read when changed)."""
    import os

    for code in ("en", "es"):
        (tmp_path / code).mkdir()
        shutil.copy(ROOT / "intents" / code / "nlu.yml", tmp_path / code / "nlu.yml")
    first = language_model_for(tmp_path, ["en", "es"])
    assert language_model_for(tmp_path, ["en", "es"]) is first
    path = tmp_path / "es" / "nlu.yml"
    path.write_text(path.read_text(encoding="utf-8") + "- intent: greet\n  examples: |\n    - zorblat quux\n",
                    encoding="utf-8")
    os.utime(path, (1, 1))
    second = language_model_for(tmp_path, ["en", "es"])
    assert second is not first and second.known_share(["zorblat", "quux"], "Latin") == 1.0


RISK_SAMPLES = [
    ("en", "my boss took my passport and locks the door at night", "urgent"),
    ("en", "my sister is locked in a house and they dont pay her", "urgent"),
    ("es", "mi jefe me quito el pasaporte y no me deja salir", "urgent"),
    ("fr", "mon patron a pris mon passeport et je ne peux pas sortir", "urgent"),
    ("pt", "meu patrao pegou meu passaporte e nao me deixa sair", "urgent"),
    ("sw", "bosi amechukua pasipoti yangu na hanilipi mshahara", "urgent"),
    ("hi", "malik ne mera passport le liya aur bahar nahi jane deta", "urgent"),
    ("hi", "मालिक ने मेरा पासपोर्ट ले लिया", "urgent"),
    ("ne", "साहुले मेरो पासपोर्ट लियो र बाहिर जान दिँदैन", "urgent"),
    ("bn", "মালিক আমার পাসপোর্ট নিয়ে নিয়েছে", "urgent"),
    ("tl", "kinuha ng amo ko ang passport ko at hindi ako pinapalabas", "urgent"),
    ("ar", "الكفيل اخذ جوازي وما يخليني اطلع", "urgent"),
    ("en", "help me now he is going to kill me", "emergency"),
    ("es", "ayuda me estan golpeando ahora", "emergency"),
    ("sw", "nisaidie sasa hivi wananipiga", "emergency"),
    ("ar", "ساعدوني الحين يضربني", "emergency"),
]


@pytest.mark.parametrize(("language", "text", "priority"), RISK_SAMPLES)
def test_risk_screen_in_every_language(language: str, text: str, priority: str) -> None:
    """The deterministic screen catches disclosures (first and third person) in each language."""
    finding = screen(REGISTRY, text)
    assert finding is not None and finding.priority == priority


@pytest.mark.stack
def test_a_language_can_be_added_from_data_alone(tmp_path: Path, stack: Stack) -> None:
    """Copy English data as a throwaway language 'zz', list it, and get an answer in it."""
    from babel.messages.pofile import read_po, write_po

    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales, ignore=shutil.ignore_patterns("*.mo"))
    shutil.copytree(locales / "en", locales / "zz")
    po_path = locales / "zz" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.id:
            message.string = "[zz] " + str(message.id)
    with po_path.open("wb") as handle:
        write_po(handle, catalog)
    listing = yaml.safe_load((locales / "languages.yml").read_text(encoding="utf-8"))
    listing["languages"].append({"code": "zz", "name": "Zedish", "script": "Latin", "direction": "ltr"})
    (locales / "languages.yml").write_text(yaml.safe_dump(listing, allow_unicode=True), encoding="utf-8")
    (locales / "zz" / "lantern.yml").write_text("keywords: {language: [zedlang]}\n", encoding="utf-8")

    with stack_settings(stack, locales_dir=locales) as twilio:
        sender = new_number()
        assert "\n11 Zedish" in twilio.text(sender, "hi")[0]
        replies = twilio.text(sender, "11")
        assert replies[0].startswith("[zz] OK") and replies[1].startswith("[zz] Hi, this is Lantern"), replies
        assert twilio.text(sender, "1")[0].startswith("[zz] Warning signs")


@pytest.mark.parametrize(("word", "latin"), [("मालिक", "malik"), ("पैसा", "paisa"), ("नहीं", "nahin"),
                                             ("রহা", "roha"), ("টাকা", "taka"), ("আমার", "amar"),
                                             ("१२", "12"), ("hello", ""), ("مرحبا", "")])
def test_devanagari_and_bengali_words_are_romanized_as_people_text(word: str, latin: str) -> None:
    """The NLU shares features between a script and its usual Latin spelling."""
    from bot.language.romanize import romanize

    assert romanize(word) == latin


@pytest.mark.rasa
def test_the_tokenizer_adds_other_spellings_after_the_original_tokens() -> None:
    """Original tokens stay first and unchanged; other spellings are appended."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.dialogue.tokenizer import SpellingVariantsTokenizer

    tokenizer = SpellingVariantsTokenizer(SpellingVariantsTokenizer.get_default_config())
    tokens = tokenizer.tokenize(Message(data={"text": "मालिक paisa नहीं"}), "text")
    assert [t.text for t in tokens] == ["मालिक", "paisa", "नहीं", "malik", "nahin"]
    tokens = tokenizer.tokenize(Message(data={"text": "الكفيل أخذ جوازي"}), "text")
    assert [t.text for t in tokens] == ["الكفيل", "أخذ", "جوازي", "اخذ"]
