"""Soak: 2 gateways and 2 Rasa servers under steady signed traffic, with Redis and Rasa crashes (`make bench-soak`).

First a ramp finds the capacity (the highest rate whose p99 stays under 5 s and which the stack
keeps up with), then simulated people text at ~60% of it for `--minutes`. Each person sends
strictly one message at a time: the next only after the reply and a think time. At 1/3 of the
run the private Redis is SIGKILLed and restarted empty on the same port; at 2/3 one Rasa server
is SIGKILLed. No supervisor runs: this harness restarts what it kills.
Writes bench/results/soak.md and bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from bench.common import RESULTS, percentile, write_result
from bench.conversation import load_scripts
from bench.processes import WORKER_MODULE, Processes, running_processes
from bot.conversation.keywords import match_keyword
from bot.core.services import Services, build_services
from tests.conversations import first_contact_for_help, scenario
from webhooks.twilio import sms_text

LANTERN_NUMBER = "+254700999000"
TWILIO_DEADLINE = 15.0
CLIENT_TIMEOUT = 30.0
P99_LIMIT = 5.0
RAMP_RATES = (10, 15, 22, 32, 45, 63, 90)
TARGETS = {"lost": 0, "http_500": 0, "order_violations": 0, "late": 0}
KINDS = ("answered", "fallback", "quiet_case", "quiet_stop", "lost")
THINK_SECONDS = (0.5, 3.0)


@dataclass
class Outcome:
    """One message a person sent and what came back."""

    phase: str
    at: float  # seconds since the phase started
    latency: float
    status: int  # 0: no HTTP answer (timeout, connection refused)
    kind: str  # one of KINDS
    gateway: int
    language: str
    error: str = ""
    menu_again: bool = False  # the language menu, though this person's language was known


@dataclass
class Tally:
    """Everything the report counts, besides the per-message outcomes."""

    outcomes: list[Outcome] = field(default_factory=list)
    retries: int = 0
    duplicate_replies: int = 0
    duplicate_fallbacks: int = 0
    retry_errors: int = 0
    shifted_replies: list[str] = field(default_factory=list)
    duplicate_examples: list[str] = field(default_factory=list)
    lost_examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        """Record one message's outcome."""
        with self.lock:
            self.outcomes.append(outcome)


def twiml_replies(body: str) -> list[str]:
    """Return the <Message> texts of a TwiML answer (none when it is not TwiML)."""
    try:
        return [m.text or "" for m in ET.fromstring(body).iter("Message")]
    except ET.ParseError:
        return []


class Catalog:
    """The bot's sentences as a texter receives them, to recognise fallback and shifted replies."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.fallbacks = {form for code in svc.registry.codes for form in self.forms("hotline_fallback", code)}
        self.menu_lines = "\n".join(f"{n} {lang.name}" for n, lang in enumerate(svc.registry.languages, 1))

    def forms(self, key: str, language: str) -> set[str]:
        """Return a sentence as rendered and as sent by SMS."""
        text = self.svc.render(key, language)
        return {text, sms_text(text)}

    def is_fallback(self, reply: str) -> bool:
        """Say whether a reply is exactly the hotline fallback (in any language)."""
        return reply in self.fallbacks or reply.partition("\n")[2] in self.fallbacks

    def is_language_menu(self, reply: str) -> bool:
        """Say whether a reply is the numbered language menu."""
        return reply.endswith(self.menu_lines)


class Scripts:
    """Conversations people play: the unseen bench scripts, first-contact pleas and, rarely, the
    every-path scenario (the only one with STOP, START and the exit word)."""

    def __init__(self, svc: Services) -> None:
        codes = svc.registry.codes
        self.common = load_scripts() + [first_contact_for_help(svc.registry, code) for code in codes]
        self.rare = [scenario(svc.registry, svc.catalogs, code) for code in codes]

    def pick(self, rng: random.Random) -> dict[str, Any]:
        """Pick a conversation: the scenario one time in 20."""
        return rng.choice(self.rare if rng.random() < 0.05 else self.common)


class Load:
    """Simulated people texting the gateways, one message at a time each, paced by a shared token queue."""

    def __init__(self, procs: Processes, svc: Services, people: int, retry_share: float) -> None:
        self.procs = procs
        self.svc = svc
        self.catalog = Catalog(svc)
        self.scripts = Scripts(svc)
        self.validator = RequestValidator(procs.settings.twilio_auth_token)
        self.signed_url = procs.settings.public_url + "/webhooks/twilio"
        self.people = people
        self.retry_share = retry_share
        self.tokens: queue.Queue[float | None] = queue.Queue()
        self.tally = Tally()
        self.phase = "ramp"
        self.phase_started = time.monotonic()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.in_flight = 0

    def start(self) -> None:
        """Start one thread per simulated person."""
        for index in range(self.people):
            thread = threading.Thread(target=self.person, args=(index,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        """Stop the people once their message in flight is answered."""
        self.stopping.set()
        for _ in self.threads:
            self.tokens.put(None)
        for thread in self.threads:
            thread.join(CLIENT_TIMEOUT + 5)

    def new_phase(self, name: str) -> None:
        """Drop unused tokens and start counting a new phase."""
        self.drain()
        self.phase, self.phase_started = name, time.monotonic()

    def drain(self) -> int:
        """Remove the tokens nobody has taken yet; return how many."""
        dropped = 0
        while True:
            try:
                self.tokens.get_nowait()
                dropped += 1
            except queue.Empty:
                return dropped

    def pace(self, rate: float, seconds: float) -> None:
        """Hand out `rate` tokens a second for some seconds."""
        started = time.monotonic()
        sent = 0
        while not self.stopping.is_set():
            elapsed = time.monotonic() - started
            if elapsed >= seconds:
                return
            due = int(elapsed * rate) + 1
            for _ in range(due - sent):
                self.tokens.put(time.monotonic())
            sent = due
            time.sleep(min(0.05, 1 / rate))

    def person(self, index: int) -> None:
        """Play conversations one after another, each as a new number, one message at a time."""
        rng = random.Random(index)
        session = requests.Session()
        while not self.stopping.is_set():
            if not self.play(rng, session, rng.randrange(len(self.procs.gateway_urls))):
                return

    def play(self, rng: random.Random, session: requests.Session, gateway: int) -> bool:
        """Play one conversation; False when the load stops."""
        script = self.scripts.pick(rng)
        number = "+2547" + "".join(rng.choice("0123456789") for _ in range(8))
        whatsapp = script.get("channel") == "whatsapp"
        opted_out, language_known = False, False
        turns = script["turns"]
        for n, turn in enumerate(turns):
            if self.tokens.get() is None:
                return False
            text = str(turn["user"])
            keyword = match_keyword(self.svc.registry, text)
            opted_out = (opted_out or bool(keyword and keyword.action in ("stop", "delete"))) and not (
                keyword and keyword.action == "start")
            form = self.form(number, text, whatsapp)
            gateway = (gateway + 1) % len(self.procs.gateway_urls)
            replies = self.send(session, gateway, form, number, str(script["language"]), opted_out, language_known)
            language_known = language_known or (n > 0 and self.knows_language(replies))
            self.check_order(turns, n, replies, str(script["language"]))
            if replies and rng.random() < self.retry_share:  # Twilio may retry through the other gateway
                self.retry(session, (gateway + 1) % len(self.procs.gateway_urls), form)
            time.sleep(rng.uniform(*THINK_SECONDS))
        return True

    def knows_language(self, replies: list[str]) -> bool:
        """Say whether replies show the bot answering in a known language (not a menu, not a fallback)."""
        return bool(replies) and not any(self.catalog.is_language_menu(r) or self.catalog.is_fallback(r)
                                         for r in replies)

    def form(self, number: str, text: str, whatsapp: bool) -> dict[str, str]:
        """Build an inbound-message form like Twilio's."""
        prefix = "whatsapp:" if whatsapp else ""
        sid = "SM" + secrets.token_hex(16)
        return {"ToCountry": "KE", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
                "Body": text, "To": prefix + LANTERN_NUMBER, "NumSegments": "1", "MessageSid": sid,
                "AccountSid": "AC" + "1" * 32, "From": prefix + number, "ApiVersion": "2010-04-01"}

    def post(self, session: requests.Session, gateway: int, form: dict[str, str],
             headers: dict[str, str] | None = None) -> requests.Response:
        """Post a form signed as Twilio signs it (against PUBLIC_URL) to one gateway."""
        signature = self.validator.compute_signature(self.signed_url, form)
        return session.post(self.procs.gateway_urls[gateway] + "/webhooks/twilio", data=form,
                            headers={"X-Twilio-Signature": signature, **(headers or {})}, timeout=CLIENT_TIMEOUT)

    def send(self, session: requests.Session, gateway: int, form: dict[str, str], number: str, language: str,
             opted_out: bool, language_known: bool) -> list[str]:
        """Send one message, classify what came back, record it; return the replies."""
        with self.tally.lock:
            self.in_flight += 1
        started = time.monotonic()
        at = started - self.phase_started
        phase = self.phase
        try:
            response = self.post(session, gateway, form)
            status, body, error = response.status_code, response.text, ""
        except requests.RequestException as exc:
            status, body, error = 0, "", type(exc).__name__
        latency = time.monotonic() - started
        with self.tally.lock:
            self.in_flight -= 1
        replies = twiml_replies(body) if status == 200 else []
        kind = self.classify(replies, status, number, opted_out)
        if kind == "lost" and len(self.tally.lost_examples) < 12:
            self.tally.lost_examples.append(f"{phase} +{at:.0f}s gw{gateway} {status} {error or body[:80]!r}")
        menu_again = language_known and any(self.catalog.is_language_menu(r) for r in replies)
        self.tally.add(Outcome(phase, at, latency, status, kind, gateway, language, error, menu_again))
        return replies

    def classify(self, replies: list[str], status: int, number: str, opted_out: bool) -> str:
        """Name the outcome: answered, fallback, quiet with a case open, quiet after STOP, or lost."""
        if replies:
            return "fallback" if any(self.catalog.is_fallback(r) for r in replies) else "answered"
        if status != 200:
            return "lost"
        if opted_out:
            return "quiet_stop"
        return "quiet_case" if self.case_open(number) else "lost"

    def case_open(self, number: str) -> bool:
        """Say whether staff own this person's conversation (looked up in the processes' database)."""
        try:
            case = self.svc.cases.current_for(self.svc.person_id(number))
        except Exception:  # noqa: BLE001 - the database busy: the case cannot be shown to exist
            return False
        return case is not None and case.active

    def retry(self, session: requests.Session, gateway: int, form: dict[str, str]) -> None:
        """Deliver an answered message again as a Twilio retry; any reply to it is a duplicate."""
        headers = {"I-Twilio-Idempotency-Token": f"{form['MessageSid']}-retry"}
        with self.tally.lock:
            self.tally.retries += 1
        try:
            response = self.post(session, gateway, form, headers)
        except requests.RequestException:
            response = None
        with self.tally.lock:
            if response is None or response.status_code != 200:
                self.tally.retry_errors += 1
            elif any(self.catalog.is_fallback(r) for r in twiml_replies(response.text)):
                self.tally.duplicate_fallbacks += 1
            elif twiml_replies(response.text):
                self.tally.duplicate_replies += 1
                at = time.monotonic() - self.phase_started
                first = twiml_replies(response.text)[0][:60]
                self.tally.duplicate_examples.append(f"{self.phase} +{at:.0f}s: {first!r}")

    def check_order(self, turns: list[dict[str, Any]], n: int, replies: list[str], language: str) -> None:
        """Flag a reply that is the expected answer to the previous or next turn but not to this one."""
        own = (turns[n].get("expect") or {}).get("key")
        neighbours = [(turns[i].get("expect") or {}).get("key") for i in (n - 1, n + 1) if 0 <= i < len(turns)]
        if not own or not replies:
            return
        forms = self.catalog.forms(own, language)
        if any(r in forms or r.partition("\n")[2] in forms for r in replies):
            return
        for key in filter(None, neighbours):
            if key != own and any(r in self.catalog.forms(key, language) for r in replies):
                with self.tally.lock:
                    self.tally.shifted_replies.append(f"{language} turn {n}: expected {own}, got {key}")


def step_figures(outcomes: list[Outcome], seconds: float) -> tuple[float, float]:
    """Return (messages answered per second, p99 latency) of a ramp step."""
    if not outcomes:
        return 0.0, 0.0
    return len(outcomes) / seconds, percentile([o.latency for o in outcomes], 99)


def settle(load: Load, timeout: float) -> None:
    """Wait (handing out no tokens) until every message in flight is answered, or time runs out."""
    deadline = time.monotonic() + timeout
    while load.in_flight and time.monotonic() < deadline:
        time.sleep(0.1)


def cool_down(load: Load, timeout: float = 120.0) -> float:
    """After the ramp's overload, wait until a new person's first message is answered in under 1 s."""
    started = time.monotonic()
    settle(load, timeout)
    session = requests.Session()
    while time.monotonic() - started < timeout:
        form = load.form("+2547" + "".join(secrets.choice("0123456789") for _ in range(8)), "hello", False)
        sent = time.monotonic()
        try:
            fast = load.post(session, 0, form).ok and time.monotonic() - sent < 1.0
        except requests.RequestException:
            fast = False
        if fast:
            break
        time.sleep(2.0)
    return round(time.monotonic() - started, 1)


def measure_capacity(load: Load, step_seconds: float) -> tuple[float, list[dict[str, float]]]:
    """Ramp the rate up step by step; return the highest rate kept up with at p99 < 5 s."""
    capacity, steps = 0.0, []
    for rate in RAMP_RATES:
        load.new_phase(f"ramp{rate}")
        load.pace(rate, step_seconds)
        settle(load, P99_LIMIT * 2)
        done = [o for o in load.tally.outcomes if o.phase == f"ramp{rate}"]
        achieved, p99 = step_figures(done, step_seconds)
        steps.append({"rate": rate, "achieved": round(achieved, 1), "p99_s": round(p99, 2),
                      "backlog": load.drain()})
        print(f"ramp {rate} msg/s: achieved {achieved:.1f}, p99 {p99:.2f} s", flush=True)
        if p99 >= P99_LIMIT or achieved < 0.9 * rate or steps[-1]["backlog"] > 0.1 * rate * step_seconds:
            break
        capacity = float(rate)
    return capacity, steps


@dataclass
class Fault:
    """One fault injected during the soak and how long the restart took."""

    name: str
    at: float
    restart_seconds: float
    note: str


def inject(procs: Processes, name: str, at: float, pause: float) -> Fault:
    """SIGKILL a process, wait, and start it again on the same port (the harness is the supervisor)."""
    procs.kill(name)
    time.sleep(pause)
    seconds = procs.restart(name)
    return Fault(name, at, round(pause + seconds, 1), f"SIGKILL, restarted by the harness after {pause:.0f} s")


def open_cases(procs: Processes) -> int | None:
    """Count open cases through the staff JSON API (None when it fails)."""
    try:
        response = requests.get(procs.gateway_urls[0] + "/staff/api/escalations", timeout=10,
                                headers={"Authorization": f"Bearer {procs.settings.staff_api_token}"})
        return len(response.json()) if response.ok else None
    except (requests.RequestException, ValueError):
        return None


def soak(load: Load, procs: Processes, rate: float, seconds: float) -> dict[str, Any]:
    """Run at a steady rate with the two faults; return faults, memory samples and case counts."""
    load.new_phase("soak")
    events: dict[str, Any] = {"faults": [], "memory": {}, "open_cases": {}}
    plan: list[tuple[float, str, Callable[[], None]]] = [
        (0.0, "start", lambda: None),
        (seconds / 3, "redis", lambda: events["faults"].append(asdict(inject(procs, "redis", seconds / 3, 2.0)))),
        (seconds / 2, "middle", lambda: None),
        (2 * seconds / 3, "rasa1", lambda: events["faults"].append(
            asdict(inject(procs, "rasa1" if len(procs.settings.rasa_urls) > 1 else "rasa", 2 * seconds / 3, 0.5)))),
    ]
    pacer = threading.Thread(target=load.pace, args=(rate, seconds), daemon=True)
    pacer.start()
    started = time.monotonic()
    injections = []
    for at, name, action in plan:
        time.sleep(max(0.0, started + at - time.monotonic()))
        if name in ("start", "middle"):
            events["memory"][name] = procs.memory()
            events["open_cases"][name] = open_cases(procs)
        else:
            events["open_cases"][f"before {name} fault"] = open_cases(procs)
            print(f"fault: {name} at +{time.monotonic() - started:.0f} s", flush=True)
            injections.append(threading.Thread(target=action, daemon=True))
            injections[-1].start()
    pacer.join()
    for thread in injections:  # a restart still under way finishes (and its messages count) first
        thread.join()
    time.sleep(2.0)
    events["memory"]["end"] = procs.memory()
    events["open_cases"]["end"] = open_cases(procs)
    return events


def figures(outcomes: list[Outcome]) -> dict[str, Any]:
    """Return the counts and latencies of a list of outcomes."""
    kinds = Counter(o.kind for o in outcomes)
    latencies = [o.latency for o in outcomes if o.status == 200]
    return {
        "sent": len(outcomes), **{kind: kinds[kind] for kind in KINDS},
        "http_500": sum(o.status == 500 for o in outcomes),
        "http_other": sum(o.status not in (0, 200, 500) for o in outcomes),
        "no_http_answer": sum(o.status == 0 for o in outcomes),
        "late": sum(o.status == 200 and o.latency > TWILIO_DEADLINE for o in outcomes),
        "language_menu_again": sum(o.menu_again for o in outcomes),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
    }


def timeline(outcomes: list[Outcome], seconds: float, buckets: int = 30) -> list[dict[str, Any]]:
    """Return the soak's figures per time slice (recovery after each fault shows here)."""
    width = max(1.0, seconds / buckets)
    rows = []
    for index in range(int(seconds // width) + 1):
        part = [o for o in outcomes if index * width <= o.at < (index + 1) * width]
        if part:
            rows.append({"from_s": round(index * width), **figures(part)})
    return rows


def recovery(outcomes: list[Outcome], faults: list[dict[str, Any]]) -> dict[str, Any]:
    """For each fault, how long after it fallbacks or losses kept coming, and how many."""
    result = {}
    ends = [f["at"] for f in faults[1:]] + [float("inf")]
    for fault, end in zip(faults, ends, strict=True):
        after = [o for o in outcomes if fault["at"] <= o.at < end]
        bad = [o for o in after if o.kind in ("fallback", "lost")]
        result[fault["name"]] = {"fallback": sum(o.kind == "fallback" for o in after),
                                 "lost": sum(o.kind == "lost" for o in after),
                                 "last_bad_after_s": round(max(o.at + o.latency for o in bad) - fault["at"], 1)
                                 if bad else 0.0,
                                 "restart_s": fault["restart_seconds"]}
    return result


def error_lines(procs: Processes, limit: int = 6) -> dict[str, list[str]]:
    """Return each process's most frequent problem log lines of the whole run, with counts."""
    return {name: [f"{count}x {line}" for line, count in lines.most_common(limit)]
            for name, lines in procs.problems().items() if lines}


def rss_table(memory: dict[str, dict[str, dict[str, int]]]) -> str:
    """Format RSS samples (MB) per process at start, middle and end."""
    names = list(next(iter(memory.values())))
    rows = ["| process | " + " | ".join(memory) + " |", "|---|" + "---|" * len(memory)]
    for name in names:
        cells = []
        for sample in memory.values():
            size = sample.get(name, {"main": 0, "children": 0, "count": 0})
            total = (size["main"] + size["children"]) / 1024
            cells.append(f"{total:.0f} MB ({size['count']} proc)" if size["count"] else "not running")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def verdict(value: int, target: int) -> str:
    """Mark a figure against its target."""
    return "ok" if value <= target else "**MISSED**"


def report(result: dict[str, Any]) -> str:
    """Write the Markdown report."""
    s, ramp = result["soak"], result["ramp"]
    violations = s["duplicate_replies"] + len(s["shifted_replies"])
    rows = [
        ("messages sent", s["sent"], ""), ("answered (a TwiML Message)", s["answered"] + s["fallback"], ""),
        ("... of them the hotline fallback", s["fallback"], ""),
        ("quiet, a case open (relayed to staff)", s["quiet_case"], ""),
        ("quiet after STOP/DELETE", s["quiet_stop"], ""),
        ("lost (no reply, no case)", s["lost"], f"target 0: {verdict(s['lost'], 0)}"),
        ("HTTP 500", s["http_500"], f"target 0: {verdict(s['http_500'], 0)}"),
        ("other HTTP errors / no HTTP answer", f"{s['http_other']} / {s['no_http_answer']}", ""),
        ("replies after 15 s", s["late"], f"target 0: {verdict(s['late'], 0)}"),
        ("order violations", violations, f"target 0: {verdict(violations, 0)}"),
        ("... duplicate answers to Twilio retries", f"{s['duplicate_replies']} of {s['retries']} retries "
         f"({s['retry_errors']} retries errored)", ""),
        ("... replies answering a neighbouring turn", len(s["shifted_replies"]), ""),
        ("retries answered with the hotline fallback again (not counted above)", s["duplicate_fallbacks"], ""),
        ("latency p50 / p99", f"{s['p50_ms']} ms / {s['p99_ms']} ms", ""),
        ("language menu again mid-conversation (state lost)", s["language_menu_again"], ""),
    ]
    table = "\n".join(f"| {name} | {value} | {target} |" for name, value, target in rows)
    ramp_rows = "\n".join(f"| {r['rate']} | {r['achieved']} | {r['p99_s']} | {r['backlog']} |" for r in ramp["steps"])
    faults = "\n".join(f"| {f['name']} | +{f['at']:.0f} s | {f['restart_seconds']} s | "
                       f"{result['recovery'][f['name']]['fallback']} | {result['recovery'][f['name']]['lost']} | "
                       f"{result['recovery'][f['name']]['last_bad_after_s']} s | {f['note']} |"
                       for f in result["events"]["faults"])
    slices = "\n".join(f"| +{r['from_s']} s | {r['sent']} | {r['answered']} | {r['fallback']} | {r['quiet_case']} | "
                       f"{r['lost']} | {r['http_500']} | {r['p99_ms']} |" for r in result["timeline"])
    errors = "\n".join(f"- {name}: " + " / ".join(f"`{line}`" for line in lines)
                       for name, lines in result["errors"].items()) or "None."
    c = result["config"]
    at_least = "at least " if ramp["capacity"] == RAMP_RATES[-1] else ""
    return f"""# Soak benchmark

One run ({c['date']}), 2-core machine shared with other work. Processes: {c['gateways']} gateways
(gunicorn, 1 worker x 32 threads each, as `lantern run` starts one), {c['rasa_servers']} Rasa servers
(each person sticks to one by hash), the action server, the sweeper, {c['workers']} RQ worker(s)
({'started' if c['workers'] else 'none: bot/handoff/jobs.py does not exist yet'}), and a private
`redis-server` (nothing on disk). Rasa's NLG callbacks go to {'a third gunicorn gateway that takes no webhooks'
if c['nlg_process'] else 'the first gateway, sharing its 32 threads with webhooks (`--shared-nlg`)'}.
DATABASE_URL = a fresh SQLite file (cases, accounts, audit and report events).
No supervisor runs: **the harness itself restarts what it kills** (the Redis server after 2 s, the Rasa
server at once), so recovery times below do not measure `lantern run`'s supervision.

Load: {c['people']} simulated people, each one message at a time (the next after the reply and a
think time of {THINK_SECONDS[0]}-{THINK_SECONDS[1]} s), alternating between the gateways, every
message signed as Twilio signs it. They play the
conversations of `bench/conversations/` and first-contact pleas in every language, and one time in 20 the
every-path scenario of `tests/conversations.py` (menus, a risk disclosure that opens a case, the exit word,
STOP then START). {c['retry_share']:.0%} of answered messages are delivered again with the same MessageSid
and an `I-Twilio-Idempotency-Token` header, as a Twilio retry: any reply to one is a duplicate.

## Capacity ramp

| target msg/s | achieved msg/s | p99 s | tokens left over |
|---|---|---|---|
{ramp_rows}

Capacity (p99 < 5 s and keeping up): **{at_least}{ramp['capacity']} msg/s** (steps of {c['step_seconds']:.0f} s: a
short step overestimates what can be sustained); the soak ran at {c['rate']:.1f} msg/s for {c['minutes']} min.
After the ramp's last (overloaded) step the harness waited {ramp['cool_down_s']} s, until
a new person's first message was answered within 1 s, before starting the soak.

## Soak

| figure | value | target |
|---|---|---|
{table}

"Lost" = an HTTP error, no HTTP answer within {CLIENT_TIMEOUT:.0f} s, or an empty TwiML answer while the
person has no open case (looked up in the processes' database right after the answer: the staff API never names a
person) and has not sent STOP. "Fallback" = a reply that is exactly `hotline_fallback` in some language.
A retry answered with the fallback again (the dedupe mark cannot be written while Redis is down) repeats a
safe message and is listed apart from duplicate answers.
Open cases by the staff API (`GET /staff/api/escalations`): {result['events']['open_cases']}.

## Faults

| fault | at | back after | fallbacks since | lost since | last fallback/loss after the fault | how |
|---|---|---|---|---|---|---|
{faults}

## Timeline

| slice | sent | answered | fallback | quiet, case open | lost | 500 | p99 ms |
|---|---|---|---|---|---|---|---|
{slices}

## Memory (RSS, main process + its children)

{rss_table(result['events']['memory'])}

## Problems the processes logged (errors and warnings of the whole run, most frequent first)

{errors}

Processes dead at the end: {result['dead_at_end'] or 'none'}.
Lost examples: {result['soak_lost_examples'] or 'none'}. Shifted replies: {s['shifted_replies'][:5] or 'none'}.
Duplicate replies to retries: {s['duplicate_examples'][:5] or 'none'}.
"""


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the processes, ramp, soak, and gather every figure."""
    workers = 1 if WORKER_MODULE.exists() else 0
    with running_processes(gateways=2, rasa_servers=2, workers=workers, nlg_process=args.nlg_process) as procs:
        svc = build_services(procs.settings)
        load = Load(procs, svc, args.people, args.retry_share)
        load.start()
        load.new_phase("warmup")
        load.pace(4, 10)
        capacity, steps = (args.capacity, []) if args.capacity else measure_capacity(load, args.ramp_seconds / 6)
        cooled = cool_down(load) if args.cool_down else 0.0
        rate = max(1.0, 0.6 * (capacity or RAMP_RATES[0]))
        seconds = args.minutes * 60
        events = soak(load, procs, rate, seconds)
        load.stop()
        outcomes = [o for o in load.tally.outcomes if o.phase == "soak"]
        tally = load.tally
        dead = procs.dead()
        errors = error_lines(procs)
    soak_figures = {**figures(outcomes), "retries": tally.retries, "duplicate_replies": tally.duplicate_replies,
                    "duplicate_fallbacks": tally.duplicate_fallbacks,
                    "retry_errors": tally.retry_errors, "shifted_replies": tally.shifted_replies,
                    "duplicate_examples": tally.duplicate_examples}
    return {
        "config": {"date": time.strftime("%Y-%m-%d %H:%M"), "gateways": 2, "rasa_servers": 2, "workers": workers,
                   "people": args.people, "nlg_process": args.nlg_process, "retry_share": args.retry_share,
                   "rate": rate, "minutes": args.minutes, "step_seconds": args.ramp_seconds / 6},
        "ramp": {"capacity": capacity, "steps": steps, "cool_down_s": cooled}, "soak": soak_figures, "targets": TARGETS,
        "events": events, "recovery": recovery(outcomes, events["faults"]),
        "timeline": timeline(outcomes, seconds), "errors": errors, "dead_at_end": dead,
        "soak_lost_examples": [e for e in tally.lost_examples if e.startswith("soak")],
        "languages": dict(Counter(o.language for o in outcomes)),
    }


def main() -> None:
    """Run the soak and write bench/results/soak.md and soak.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the steady run")
    parser.add_argument("--people", type=int, default=200, help="simulated people")
    parser.add_argument("--ramp-seconds", type=float, default=60.0, help="length of the capacity ramp")
    parser.add_argument("--capacity", type=float, default=0.0, help="skip the ramp: assume this capacity (msg/s)")
    parser.add_argument("--retry-share", type=float, default=0.02, help="share of answered messages retried")
    parser.add_argument("--no-cool-down", dest="cool_down", action="store_false",
                        help="start the soak right after the ramp's overloaded step (shows whether it recovers)")
    parser.add_argument("--shared-nlg", dest="nlg_process", action="store_false",
                        help="serve Rasa's NLG callbacks from the first gateway (the shape before `lantern run` gave "
                             "them their own process) instead of an NLG process that takes no webhooks")
    parser.add_argument("--out", default="soak", help="result file names in bench/results/ (.md and .json)")
    args = parser.parse_args()
    result = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    write_result(f"{args.out}.md", report(result))


if __name__ == "__main__":
    main()
