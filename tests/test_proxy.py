"""Behind a proxy: the real client's address (PROXY_HOPS) and a flood limit only forgers reach."""

from __future__ import annotations

import dataclasses

import pytest
from twilio.request_validator import RequestValidator

from bot.app import create_app
from tests.conftest import AUTH_TOKEN, PUBLIC_URL, Pipeline
from tests.test_webhook import SMS, fill

LIMIT = 3
PROXY = "10.0.0.2"
FORGED = "Zm9yZ2VkIHNpZ25hdHVyZQ=="

# (name, PROXY_HOPS, requests as (signed?, REMOTE_ADDR, X-Forwarded-For or ""), expected status codes)
FLOOD_TABLE = [
    ("busy Twilio behind one address is never throttled", 0,
     [(True, "54.1.1.1", "")] * 6, [200] * 6),
    ("a forger is throttled past the limit", 0,
     [(False, "6.6.6.6", "")] * 5, [403, 403, 403, 429, 429]),
    ("a throttled forger does not throttle Twilio at another address", 0,
     [(False, "6.6.6.6", "")] * 4 + [(True, "54.1.1.1", "")], [403, 403, 403, 429, 200]),
    ("a forger sharing Twilio's address never blocks Twilio's signed requests", 0,
     [(False, "54.1.1.1", "")] * 4 + [(True, "54.1.1.1", "")], [403, 403, 403, 429, 200]),
    ("without PROXY_HOPS a forged X-Forwarded-For is ignored", 0,
     [(False, "6.6.6.6", f"1.2.3.{n}") for n in range(5)], [403, 403, 403, 429, 429]),
    ("behind one proxy forgers are counted by their own address", 1,
     [(False, PROXY, f"6.6.6.{n}") for n in range(5)], [403] * 5),
    ("behind one proxy one forger is throttled although the proxy's address is shared", 1,
     [(False, PROXY, "6.6.6.6")] * 4 + [(True, PROXY, "54.1.1.1")], [403, 403, 403, 429, 200]),
    ("behind one proxy a client cannot pick its address by sending its own X-Forwarded-For", 1,
     [(False, PROXY, f"1.2.3.{n}, 6.6.6.6") for n in range(5)], [403, 403, 403, 429, 429]),
]


def post(client: object, signed: bool, remote: str, forwarded: str) -> int:
    """Post one raw Twilio SMS payload, signed by twilio's own RequestValidator or forged."""
    from urllib.parse import parse_qsl

    raw, _ = fill(SMS, "hello")
    url = PUBLIC_URL + "/webhooks/twilio"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, dict(parse_qsl(raw, keep_blank_values=True)))
    headers = {"X-Twilio-Signature": signature if signed else FORGED}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    response = client.post("/webhooks/twilio", data=raw, headers=headers,  # type: ignore[attr-defined]
                           content_type="application/x-www-form-urlencoded", environ_base={"REMOTE_ADDR": remote})
    return int(response.status_code)


@pytest.mark.parametrize(("name", "hops", "requests", "expected"), FLOOD_TABLE, ids=[row[0] for row in FLOOD_TABLE])
def test_only_forged_requests_count_toward_the_flood_limit(
    pipeline: Pipeline, name: str, hops: int, requests: list[tuple[bool, str, str]], expected: list[int]
) -> None:
    settings = dataclasses.replace(pipeline.svc.settings, proxy_hops=hops, ip_rate_limit_per_minute=LIMIT)
    client = create_app(settings, services=dataclasses.replace(pipeline.svc, settings=settings)).test_client()
    assert [post(client, *request) for request in requests] == expected


def test_the_signature_is_checked_against_public_url_behind_a_proxy(pipeline: Pipeline) -> None:
    """The proxy's Host and scheme do not change the URL the signature is checked against."""
    settings = dataclasses.replace(pipeline.svc.settings, proxy_hops=1)
    client = create_app(settings, services=dataclasses.replace(pipeline.svc, settings=settings)).test_client()
    from urllib.parse import parse_qsl

    for signed_url, status in ((PUBLIC_URL + "/webhooks/twilio", 200), ("http://10.0.0.5:5000/webhooks/twilio", 403)):
        raw, _ = fill(SMS, "hello")
        params = dict(parse_qsl(raw, keep_blank_values=True))
        response = client.post("/webhooks/twilio", data=raw, content_type="application/x-www-form-urlencoded",
                               base_url="http://10.0.0.5:5000",
                               headers={"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(
                                   signed_url, params), "X-Forwarded-For": "54.1.1.1",
                                   "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
        assert response.status_code == status, signed_url
