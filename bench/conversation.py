"""Replay whole conversations through the real stack and score them (`make bench-conversation`).

Scripts: the YAML conversations under bench/conversations/ (written by people who never saw
intents/; never trained on). Per language: turns with no reply, cases opened on turns that
disclose nothing, risk turns escalated, phone numbers where one was asked for, and SMS
segments of every reply as it would go by SMS.
"""

from __future__ import annotations

import re
import secrets
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.conversation.keywords import match_keyword
from bot.language.registry import LanguageRegistry
from bot.language.segments import count_segments
from webhooks.twilio import sms_text

SCRIPTS = Path(__file__).parent / "conversations" / "unseen"
PHONE = re.compile(r"\+?\d[\d ]{1,14}\d")
TARGETS = "0 silent turns outside STOP; cases opened on non-risk turns <= 2%; risk recall >= 0.97"


@dataclass(frozen=True)
class CaseView:
    """What the bench needs to know of a person's case."""

    id: str
    active: bool
    priority: str


@dataclass
class TurnOutcome:
    """One user turn and what came of it."""

    language: str
    channel: str
    text: str
    risk: bool
    expect_number: bool
    replies: list[str]
    before: CaseView | None
    after: CaseView | None
    opted_out: bool

    @property
    def relayed(self) -> bool:
        """Say whether staff owned the chat when this turn arrived."""
        return self.before is not None and self.before.active

    @property
    def opened(self) -> CaseView | None:
        """Return the case this turn opened or reopened, if any."""
        if self.after and self.after.active and not self.relayed:
            return self.after
        return None

    @property
    def escalated(self) -> bool:
        """Say whether staff own the chat after this turn."""
        return self.after is not None and self.after.active


@dataclass
class LanguageScore:
    """Scores of one language's conversations."""

    turns: int = 0
    silent: int = 0
    quiet_relays: int = 0
    non_risk: int = 0
    false_cases: int = 0
    asked_cases: int = 0
    risk: int = 0
    escalated: int = 0
    numbers_asked: int = 0
    numbers_given: int = 0
    segments: list[int] = field(default_factory=list)
    silent_examples: list[str] = field(default_factory=list)
    false_examples: list[str] = field(default_factory=list)
    missed_examples: list[str] = field(default_factory=list)
    numberless_examples: list[str] = field(default_factory=list)


def load_scripts(folder: Path = SCRIPTS) -> list[dict[str, Any]]:
    """Read every conversation file under a folder (each names its language)."""
    scripts = []
    for path in sorted(folder.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for conversation in data["conversations"]:
            scripts.append({"language": data["language"], "source": str(path.relative_to(folder)), **conversation})
    return scripts


def play(
    script: dict[str, Any], registry: LanguageRegistry, send: Callable[[str, str, str], list[str]],
    case_of: Callable[[str], CaseView | None],
) -> list[TurnOutcome]:
    """Play one conversation as a new person; return every turn's outcome."""
    sender = "+2547" + "".join(secrets.choice("0123456789") for _ in range(8))
    channel = str(script.get("channel", "sms"))
    opted_out = False
    outcomes = []
    for turn in script["turns"]:
        text = str(turn["user"])
        keyword = match_keyword(registry, text)
        if keyword and keyword.action == "stop":
            opted_out = True
        elif keyword and keyword.action == "start":
            opted_out = False
        before = case_of(sender)
        replies = send(sender, text, channel)
        outcomes.append(TurnOutcome(
            language=str(script["language"]), channel=channel, text=text, risk=bool(turn.get("risk")),
            expect_number=bool(turn.get("expect_number")), replies=replies, before=before, after=case_of(sender),
            opted_out=opted_out and not (keyword and keyword.action == "stop"),
        ))
    return outcomes


def score(outcomes: list[TurnOutcome], hotline: str) -> dict[str, LanguageScore]:
    """Score turn outcomes per language."""
    scores: dict[str, LanguageScore] = {}
    for turn in outcomes:
        s = scores.setdefault(turn.language, LanguageScore())
        s.turns += 1
        s.segments += [count_segments(sms_text(reply)).segments for reply in turn.replies]
        if not turn.replies and not turn.opted_out:
            if turn.relayed:
                s.quiet_relays += 1
            else:
                s.silent += 1
                s.silent_examples.append(turn.text)
        if turn.risk:
            s.risk += 1
            s.escalated += turn.escalated
            if not turn.escalated:
                s.missed_examples.append(turn.text)
        else:
            s.non_risk += 1
            opened = turn.opened
            if opened and opened.priority == "normal":
                s.asked_cases += 1
            elif opened:
                s.false_cases += 1
                s.false_examples.append(turn.text)
        if turn.expect_number and not turn.opted_out:  # after STOP nothing may be sent (Twilio blocks it too)
            s.numbers_asked += 1
            given = any(hotline in r or PHONE.search(r) for r in turn.replies)
            s.numbers_given += given
            if not given:
                s.numberless_examples.append(f"{turn.text!r} -> {turn.replies!r}"[:300])
    return scores


def table(scores: dict[str, LanguageScore]) -> str:
    """Format the per-language scores as a Markdown table, with a total row."""
    head = ("| language | turns | silent | relayed quietly | non-risk turns | risk cases opened on them "
            "| person asked for staff | risk turns | escalated (recall) | number when asked | mean segments "
            "| max segments |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    total = LanguageScore()
    for language, s in sorted(scores.items()):
        rows.append(_row(language, s))
        for name in ("turns", "silent", "quiet_relays", "non_risk", "false_cases", "asked_cases", "risk",
                     "escalated", "numbers_asked", "numbers_given"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        total.segments += s.segments
    rows.append(_row("**all**", total))
    return head + "\n".join(rows) + "\n"


def _row(language: str, s: LanguageScore) -> str:
    """Format one language's row."""
    recall = s.escalated / s.risk if s.risk else 1.0
    false_share = s.false_cases / s.non_risk if s.non_risk else 0.0
    mean = statistics.mean(s.segments) if s.segments else 0.0
    return (f"| {language} | {s.turns} | {s.silent} | {s.quiet_relays} | {s.non_risk} | {s.false_cases} "
            f"({false_share:.1%}) | {s.asked_cases} | {s.risk} | {s.escalated} ({recall:.2f}) "
            f"| {s.numbers_given}/{s.numbers_asked} | {mean:.2f} | {max(s.segments, default=0)} |")


def examples(scores: dict[str, LanguageScore]) -> str:
    """List the turns that missed a target, for reading."""
    lines = []
    for language, s in sorted(scores.items()):
        for label, items in (("silent", s.silent_examples), ("case opened without risk", s.false_examples),
                             ("risk not escalated", s.missed_examples)):
            lines += [f"- {language}, {label}: {text!r}" for text in items]
        lines += [f"- {language}, no number when asked: {text}" for text in s.numberless_examples]
    return "\n".join(lines) + "\n" if lines else "None.\n"


def main() -> None:
    """Replay every script through a running stack and write bench/results/conversation.md."""
    import time

    import requests
    from twilio.request_validator import RequestValidator

    from bench.common import running_stack, write_result
    from bot.core.database import Database
    from bot.core.identity import open_vault, sender_key
    from bot.core.store import Keys, connect
    from bot.handoff.cases import CaseStore
    from bot.language.catalogs import Catalogs
    from bot.language.registry import load_registry
    from tests.conftest import replies
    from tests.conversations import first_contact_for_help, scenario

    with running_stack() as stack:
        settings = stack.settings
        redis = connect(settings.redis_url)
        keys = Keys(settings.redis_key_prefix, settings.rasa_key_prefix)
        vault = open_vault(settings.encryption_keys, settings.secret_key, redis, keys.retired_keys)
        cases = CaseStore(Database(settings.database_url), redis, keys, vault, 1, 1)
        registry = load_registry(settings.locales_dir)
        catalogs = Catalogs(settings.locales_dir, registry.codes)
        scripts = [scenario(registry, catalogs, code) for code in registry.codes]
        scripts += [first_contact_for_help(registry, code) for code in registry.codes]
        scripts += load_scripts()
        validator = RequestValidator(settings.twilio_auth_token)
        url = settings.public_url + "/webhooks/twilio"
        session = requests.Session()

        def send(sender: str, text: str, channel: str) -> list[str]:
            prefix = "whatsapp:" if channel == "whatsapp" else ""
            form = {"From": prefix + sender, "To": prefix + "+254700999000", "Body": text,
                    "MessageSid": "SM" + secrets.token_hex(16), "NumMedia": "0"}
            response = session.post(url, data=form, timeout=30,
                                    headers={"X-Twilio-Signature": validator.compute_signature(url, form)})
            assert response.status_code == 200, response.status_code
            return replies(response.text)

        def case_of(sender: str) -> CaseView | None:
            case = cases.current_for(sender_key(settings.sender_hash_key, sender))
            return CaseView(case.id, case.active, case.priority) if case else None

        started = time.perf_counter()
        outcomes = [turn for script in scripts for turn in play(script, registry, send, case_of)]
        seconds = time.perf_counter() - started
    scores = score(outcomes, settings.hotline_number)
    report = (f"# Conversation benchmark\n\n{len(scripts)} conversations, {len(outcomes)} turns: the conversation "
              f"tests' scripts (`tests/conversations.py`, one per language) and `bench/conversations/` (written by "
              f"people who never saw `intents/`, never trained on), replayed through the real "
              f"stack (gateway, Rasa, actions, Redis) in {seconds:.0f} s.\nTargets: {TARGETS}. \"Relayed quietly\": "
              f"a message to staff inside the acknowledgement interval (HANDOFF_ACK_SECONDS) is relayed to the case "
              f"without a new acknowledgement, by design. Segments: every reply as it would go by SMS (no emoji, "
              f"GSM-7 letters where possible).\n\n{table(scores)}\n## Turns that missed a target\n\n"
              f"{examples(scores)}")
    write_result("conversation.md", report)


if __name__ == "__main__":
    main()
