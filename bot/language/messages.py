"""English source of every user-facing sentence, keyed by response name.

`pybabel extract` reads the `message(...)` calls below into locales/messages.pot; the
key becomes the gettext context (msgctxt) and the English text the msgid, so
translators see the English sentence and a change to it marks translations fuzzy.
Placeholders in braces ({hotline}, {emergency}, ...) are filled when rendering.
"""

from __future__ import annotations


def message(key: str, english: str) -> tuple[str, str]:
    """Mark an English sentence for extraction under the given response key."""
    return key, english


SOURCE: dict[str, str] = dict(
    [
        # --- Answers chosen by Rasa (response names in domain/) --------------------
        message(
            "utter_main_menu",
            "Hi, this is Lantern. Free, private help about work and travel.\n"
            "1 Warning signs\n2 Get help\n3 Talk to a person\n4 Language\n0 Menu",
        ),
        message(
            "utter_signs_1",
            "⚠️ Warning signs (1/3):\n- Big fee paid for a job\n"
            "- Job or pay not as promised\n- Passport or ID taken away\n"
            "Reply 1 more, 0 menu",
        ),
        message(
            "utter_signs_2",
            "⚠️ Warning signs (2/3):\n- A debt that never ends\n- You are not free to leave\n"
            "- Threats or violence\nReply 1 more, 0 menu",
        ),
        message(
            "utter_signs_3",
            "⚠️ Warning signs (3/3):\n- Your wages are not paid\n- Forced to sell sex\n"
            "- Children made to work\nReply 2 get help, 0 menu",
        ),
        message(
            "utter_get_help",
            "Get help:\n1 Hotline\n2 Shelter, lawyer or clinic near you\n"
            "3 Your rights at work\n4 Safe travel tips\n0 Menu",
        ),
        message(
            "utter_report",
            "📞 Hotline {hotline}: free, confidential. No need to give your name. "
            "We listen and help.\nReply 3 talk to a person, 0 menu",
        ),
        message(
            "utter_rights",
            "Your rights at work: pay on time, keep your own passport, rest days, "
            "freedom to leave, no threats or violence.\nReply 2 get help, 0 menu",
        ),
        message(
            "utter_safe_migration_1",
            "✈️ Safe travel (1/2):\n"
            "- Check the recruiter is licensed\n"
            "- Never pay big job fees\n"
            "- Keep copies of your documents\n"
            "Reply 1 more, 3 talk to a person, 0 menu"
        ),
        message(
            "utter_safe_migration_2",
            "✈️ Safe travel (2/2):\n"
            "- Never give anyone your passport\n"
            "- Tell family where you are\n"
            "- Save our hotline: {hotline}\n"
            "Reply 3 talk to a person, 0 menu"
        ),
        message(
            "utter_ask_place",
            "Which town are you in? Reply with its name or share your location. Hotline: {hotline}"
        ),
        message(
            "utter_no_resources",
            "We have no service listed near you yet. Call the hotline {hotline}: "
            "free and confidential.\nReply 0 menu",
        ),
        message(
            "utter_escalate_emergency",
            "Free call: {hotline}, or {emergency}. A person from our team will answer you here."
        ),
        message(
            "utter_escalate_urgent",
            "Free call: {hotline}, or {emergency}. You are not alone. A person from our team will "
            "answer you here soon."
        ),
        message(
            "utter_escalate_normal",
            "OK. A person from our team will answer you here soon. Free call: {hotline}"
        ),
        message("utter_safety_check", "Is it safe to text now? Reply 1 yes, 2 no"),
        message(
            "utter_goodbye",
            "Take care. You can write to us any time.\nReply 0 menu",
        ),
        message(
            "utter_out_of_scope",
            "Sorry, I can only help with work, travel and safety.\n"
            "Reply 0 menu, 3 talk to a person",
        ),
        message(
            "utter_not_understood",
            "Sorry, I did not understand. Reply with a number:\n"
            "1 Warning signs\n"
            "2 Get help\n"
            "3 Talk to a person\n"
            "0 Menu"
        ),
        # --- Sentences the gateway sends itself ------------------------------------
        message("discreet_first_line", "Hi"),
        message("language_menu_header", "Language? Reply with a number:"),
        message("language_set", "OK, we will write in English."),
        message("language_hint", "To change language, send LANGUAGE."),
        message(
            "hotline_fallback",
            "Sorry, we cannot answer right now. Hotline: {hotline} (free, confidential). "
            "In danger: {emergency}.",
        ),
        message(
            "rate_limited",
            "You sent many messages. Please wait a few minutes. Hotline: {hotline}",
        ),
        message(
            "stop_confirm",
            "You will get no more messages from us. Send START to begin again. "
            "Hotline: {hotline}",
        ),
        message("start_confirm", "Welcome back. Reply 0 menu"),
        message(
            "help_text",
            "Lantern: free, private help. Hotline {hotline}. Emergency {emergency}. "
            "Send STOP to stop, DELETE to erase your data.",
        ),
        message("delete_confirm", "Done."),
        message("exit_reply", "Done."),
        message(
            "media_unsupported",
            "I can only read text. Please type your question.\nReply 0 menu",
        ),
        message("safe_yes", "OK. A person will write here soon. Send EXIT to end at once."),
        message("safe_no", "OK. We will not write first. Delete this chat if needed. Free call: {hotline}"),
        message("handoff_joined", "A person from our team is here now. You can write freely."),
        message(
            "handoff_waiting",
            "Sorry, no one from our team is free yet. Please call the hotline {hotline} now "
            "(free, confidential).",
        ),
        message(
            "handoff_after_hours",
            "Our team is back {back_at}. If you need help now call {hotline}. "
            "In danger: {emergency}.",
        ),
        message(
            "handoff_closed",
            "Our team closed this chat. You can write again any time.\nReply 0 menu",
        ),
        message("handoff_ack", "Our team has your message and will answer here. Free call: {hotline}"),
        message(
            "handoff_menu_paused",
            "You are chatting with our team. To end the chat and get the menu, send EXIT. Free call: "
            "{hotline}"
        ),
        message("hotline_line", "Free call: {hotline}"),
        message("resources_header", "Places that can help:"),
        message("resources_more", "Reply 4 more, 0 menu"),
        message("resources_last", "Reply 0 menu"),
        message("category_hotline", "hotline"),
        message("category_shelter", "shelter"),
        message("category_legal", "legal aid"),
        message("category_medical", "clinic"),
        message("category_counselling", "counselling"),
        message("category_embassy", "embassy"),
        message("category_labour_office", "labour office"),
        message("fact_free", "free"),
        message("fact_confidential", "confidential"),
        message("fact_no_immigration", "does not report to immigration"),
        message("fact_women_only", "women only"),
        message("fact_children", "accepts children"),
        message("fact_walk_in", "walk-in"),
        message("resources_none_near", "No listing near {place} yet. Hotline {hotline}: free, confidential."),
        message("resources_none_near_you", "No listing near you yet. Hotline {hotline}: free, confidential."),
        message("resources_national_header", "Numbers for the whole country:"),
    ]
)
