"""Gateway vs Rasa alone: latency and throughput of signed messages from concurrent senders."""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from twilio.request_validator import RequestValidator

from bench.common import BenchStack, percentile, running_stack, write_result
from bot.core.identity import sender_key
from bot.dialogue.client import RasaClient

# One conversation; each worker repeats it from a new number.
TEXTS = ["what are the signs of a fake job offer", "1", "what are my rights", "0",
         "how do i check a recruitment agency", "2", "hello", "can i change my employer"]
Sender = Callable[[requests.Session, str, str], float]


class Targets:
    """Send one message either through the gateway (signed webhook) or straight to Rasa."""

    def __init__(self, stack: BenchStack) -> None:
        self.stack = stack
        self.url = stack.settings.public_url + "/webhooks/twilio"
        self.validator = RequestValidator(stack.settings.twilio_auth_token)
        self.failures: list[str] = []
        settings = stack.settings
        self.rasa_client = RasaClient(settings.rasa_urls, settings.rasa_token, settings.actions_url, 30)

    def gateway(self, session: requests.Session, number: str, text: str) -> float:
        """Post a signed Twilio webhook; return the latency in ms."""
        form = {"From": number, "To": "+254700999000", "Body": text, "MessageSid": "SM" + secrets.token_hex(16),
                "NumMedia": "0", "AccountSid": "AC" + "0" * 32}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(self.url, form)}
        started = time.perf_counter()
        response = session.post(self.url, data=form, headers=headers, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or "<Message>" not in response.text or "Hotline:" in response.text:
            self.failures.append(f"gateway {response.status_code} {text!r}: {response.text[:100]}")
        return elapsed

    def rasa(self, session: requests.Session, number: str, text: str) -> float:
        """Post the same text to Rasa's REST channel; return the latency in ms."""
        person = sender_key(self.stack.settings.sender_hash_key, number + "-direct")
        started = time.perf_counter()
        response = session.post(f"{self.rasa_client.server_for(person)}/webhooks/rest/webhook",
                                json={"sender": person, "message": text, "metadata": {"language": "en"}}, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or not response.json():
            self.failures.append(f"rasa {response.status_code} {text!r}: {response.text[:100]}")
        return elapsed


def run(send: Sender, messages: int, concurrency: int, tag: str) -> tuple[list[float], float]:
    """Send `messages` messages from `concurrency` closed-loop senders; return latencies and msg/s."""
    def worker(index: int) -> list[float]:
        session = requests.Session()
        return [send(session, f"+2547{tag}{index:02d}{i // len(TEXTS):03d}", TEXTS[i % len(TEXTS)])
                for i in range(messages // concurrency)]

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        times = [t for chunk in pool.map(worker, range(concurrency)) for t in chunk]
    return times, len(times) / (time.perf_counter() - started)


def main() -> None:
    """Run both targets at 1 and C concurrent senders and write bench/results/gateway.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=400, help="messages per target and concurrency level")
    parser.add_argument("-c", type=int, default=10, help="concurrent senders")
    parser.add_argument("--rasa-processes", type=int, default=1, help="Rasa servers behind the gateway")
    parser.add_argument("--gateway-workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument("--out", default="gateway.md", help="result file name in bench/results/")
    args = parser.parse_args()
    rows, summary = [], []
    with running_stack(rasa_processes=args.rasa_processes, gateway_workers=args.gateway_workers) as stack:
        targets = Targets(stack)
        run(targets.gateway, 80, args.c, "9")  # warm-up of both paths (the NLG callback included)
        for concurrency in (1, args.c):
            count = args.n if concurrency > 1 else args.n // 4
            rasa_times, rasa_rate = run(targets.rasa, count, concurrency, f"{concurrency % 10}1")
            gateway_times, gateway_rate = run(targets.gateway, count, concurrency, f"{concurrency % 10}2")
            rasa_median, gateway_median = statistics.median(rasa_times), statistics.median(gateway_times)
            rows += [f"| {concurrency} | Rasa REST alone | {count} | {rasa_median:.1f} ms | "
                     f"{percentile(rasa_times, 95):.1f} ms | {rasa_rate:.1f} |",
                     f"| {concurrency} | gateway end to end | {count} | {gateway_median:.1f} ms | "
                     f"{percentile(gateway_times, 95):.1f} ms | {gateway_rate:.1f} |"]
            summary.append(f"- {concurrency} sender(s): gateway adds {gateway_median - rasa_median:+.1f} ms to the "
                           f"median (ratio {gateway_median / rasa_median:.2f}); end-to-end median "
                           f"{gateway_median:.1f} ms")
    report = f"""# Gateway benchmark

One run ({time.strftime('%Y-%m-%d %H:%M')}), 2-core machine, {args.rasa_processes} Rasa server process(es),
{args.gateway_workers} gateway worker process(es).
Closed-loop senders, each holding
conversations of {len(TEXTS)} messages from a new number, the same texts for both targets.
Gateway = signed Twilio webhook -> full pipeline (signature, dedupe, rate limit, keywords,
risk screen, language, Rasa REST, NLG callback rendered from the Babel catalogs) -> TwiML.
Rasa alone = its REST channel directly (it still calls the gateway's NLG endpoint).

| senders | target | messages | median | p95 | msg/s |
|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n\n" + "\n".join(summary) + f"""

Targets: gateway overhead at most +10 ms median; end-to-end median at most 60 ms with
{args.c} senders. Failed or empty answers: {len(targets.failures)} {targets.failures[:3]}
"""
    write_result(args.out, report)


if __name__ == "__main__":
    main()
