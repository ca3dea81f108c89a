"""Gateway vs Rasa alone: latency and throughput of N signed messages from C senders."""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from twilio.request_validator import RequestValidator

from bench.common import percentile, running_stack, write_result
from bot.identity import sender_key

TEXTS = ["what are the signs of a fake job offer", "1", "what are my rights", "0",
         "how do i check a recruitment agency", "2", "hello", "can i change my employer"]


def main() -> None:
    """Run the benchmark and write bench/results/gateway.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=400, help="messages per target")
    parser.add_argument("-c", type=int, default=10, help="concurrent senders")
    args = parser.parse_args()
    with running_stack() as stack:
        validator = RequestValidator(stack.settings.twilio_auth_token)
        url = stack.settings.public_url + "/webhooks/twilio"
        senders = [f"+2547{secrets.randbelow(10**8):08d}" for _ in range(args.c)]
        sessions = [requests.Session() for _ in range(args.c)]

        def prime(index: int) -> None:
            for text in ("hello", "1"):
                send_gateway(index, text)

        def send_gateway(index: int, text: str) -> float:
            sid = "SM" + secrets.token_hex(16)
            form = {"From": senders[index], "To": "+254700999000", "Body": text, "MessageSid": sid,
                    "NumMedia": "0", "AccountSid": "AC" + "0" * 32}
            headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
            started = time.perf_counter()
            response = sessions[index].post(url, data=form, headers=headers, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200 and "<Message>" in response.text, response.text[:200]
            return elapsed

        def send_rasa(index: int, text: str) -> float:
            person = sender_key(stack.settings.sender_hash_key, senders[index] + "-direct")
            started = time.perf_counter()
            response = sessions[index].post(f"{stack.settings.rasa_url}/webhooks/rest/webhook",
                                            json={"sender": person, "message": text,
                                                  "metadata": {"language": "en"}}, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200 and response.json(), response.text[:200]
            return elapsed

        def run(target: object) -> tuple[list[float], float]:
            def worker(index: int) -> list[float]:
                return [target(index, TEXTS[i % len(TEXTS)])  # type: ignore[operator]
                        for i in range(args.n // args.c)]

            started = time.perf_counter()
            with ThreadPoolExecutor(args.c) as pool:
                results = [t for times in pool.map(worker, range(args.c)) for t in times]
            return results, len(results) / (time.perf_counter() - started)

        with ThreadPoolExecutor(args.c) as pool:
            list(pool.map(prime, range(args.c)))
        run(send_rasa)  # warm-up
        rasa_times, rasa_rate = run(send_rasa)
        gateway_times, gateway_rate = run(send_gateway)

    rasa_median, gw_median = statistics.median(rasa_times), statistics.median(gateway_times)
    report = f"""# Gateway benchmark

{args.n} messages from {args.c} concurrent senders, same texts, one run ({time.strftime('%Y-%m-%d %H:%M')}).
Gateway = signed Twilio webhook -> full pipeline (dedupe, rate limit, keywords, language,
Rasa REST, NLG callback rendering via Babel) -> TwiML. Rasa alone = REST channel directly
(it still calls the gateway's NLG endpoint for each response).

| target | median | p95 | msg/s |
|---|---|---|---|
| Rasa REST alone | {rasa_median:.1f} ms | {percentile(rasa_times, 95):.1f} ms | {rasa_rate:.1f} |
| gateway end to end | {gw_median:.1f} ms | {percentile(gateway_times, 95):.1f} ms | {gateway_rate:.1f} |

- Gateway overhead (median): {gw_median - rasa_median:+.1f} ms (target: at most +10 ms)
- Ratio of medians gateway/Rasa: {gw_median / rasa_median:.2f}
- End-to-end median with {args.c} senders: {gw_median:.1f} ms (target: at most 60 ms)
"""
    write_result("gateway.md", report)


if __name__ == "__main__":
    main()
