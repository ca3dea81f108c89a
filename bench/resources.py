"""Resource lookup latency on a generated 10,000-entry directory (Redis geo + place matching)."""

from __future__ import annotations

import random
import time

from redis import Redis

from bench.common import BENCH_REDIS_URL, summary, write_result
from bot.core.store import Keys
from bot.resources.directory import CATEGORIES, Directory, Region, Resource
from bot.resources.index import DirectoryIndex
from bot.resources.places import match_place

ENTRIES = 10_000
REGIONS = 400
LOOKUPS = 2_000


def generated_directory(rng: random.Random) -> Directory:
    """Make regions across East Africa and entries scattered around them."""
    regions = tuple(
        Region(f"r{i}", (f"Town{i}", f"Mji{i}", f"Ville{i}"), rng.uniform(-11, 4), rng.uniform(29, 42))
        for i in range(REGIONS)
    )
    resources = []
    for i in range(ENTRIES):
        region = regions[i % REGIONS]
        resources.append(Resource(
            id=f"e{i}", name=f"Service {i}", categories=tuple(rng.sample(CATEGORIES, 2)), phone=f"+254 700 {i:06d}",
            latitude=region.latitude + rng.uniform(-0.3, 0.3), longitude=region.longitude + rng.uniform(-0.3, 0.3),
            region=region.id, hours="24/7",
            facts={"free": rng.random() < 0.7, "women_only": rng.random() < 0.2, "confidential": True},
        ))
    return Directory(regions, tuple(resources))


def main() -> None:
    """Time nearest-first lookups (pin, category, filter) and typed-place matching."""
    rng = random.Random(7)
    directory = generated_directory(rng)
    redis = Redis.from_url(BENCH_REDIS_URL, decode_responses=True)
    index = DirectoryIndex(redis, Keys("bench-res:", "bench-rasa"))
    started = time.perf_counter()
    index.load(directory)
    load_seconds = time.perf_counter() - started
    rows = []
    cases = {
        "pin, any category": (None, set()),
        "pin, category": ("legal", set()),
        "pin, category + filter": ("shelter", {"women_only"}),
    }
    for label, (category, filters) in cases.items():
        times = []
        for _ in range(LOOKUPS):
            region = rng.choice(directory.regions)
            t0 = time.perf_counter()
            entries, _ = index.nearest(region.latitude, region.longitude, category, filters, 0, 3)
            times.append((time.perf_counter() - t0) * 1000)
        rows.append(f"| {label} | {summary(times)} |")
    place_times = []
    for _ in range(500):
        text = f"i need a lawyer in mji{rng.randrange(REGIONS)}x"  # typo'd alias: fuzzy path
        t0 = time.perf_counter()
        match_place(directory.regions, text)
        place_times.append((time.perf_counter() - t0) * 1000)
    rows.append(f"| typed place with a typo ({REGIONS} regions, {REGIONS * 3} names) | {summary(place_times)} |")
    for key in redis.scan_iter("bench-res:*", count=1000):
        redis.delete(key)
    report = f"""# Resource lookup benchmark

{ENTRIES} generated entries in {REGIONS} regions, {LOOKUPS} lookups per row, one run
({time.strftime('%Y-%m-%d %H:%M')}), Redis at {BENCH_REDIS_URL}. Loading the directory into Redis took
{load_seconds:.2f} s.

| lookup | latency |
|---|---|
""" + "\n".join(rows) + "\n"
    write_result("resources.md", report)


if __name__ == "__main__":
    main()
