"""Keep a set of child processes running: restart one that stops, with exponential backoff."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class Supervised(Protocol):
    """What the supervisor needs of a child (bot.tools.stack.Child)."""

    name: str
    started_at: float

    def start(self, echo: bool) -> None:
        """Start the process."""

    def exit_code(self) -> int | None:
        """Return the exit code once the process has stopped, else None."""

    def stop(self, grace: float = 10.0) -> None:
        """Stop the process."""


@dataclass
class Backoff:
    """Restart delays: `first` seconds doubling up to `longest`, reset once a child stayed up `stable`."""

    first: float = 1.0
    longest: float = 60.0
    stable: float = 60.0
    crashes: dict[str, int] = field(default_factory=dict)

    def delay(self, name: str, uptime: float) -> float:
        """Return how long to wait before restarting a child that stopped after `uptime` seconds."""
        crashes = 0 if uptime >= self.stable else self.crashes.get(name, 0)
        self.crashes[name] = crashes + 1
        return float(min(self.longest, self.first * 2 ** crashes))


def describe_exit(code: int) -> str:
    """Say how a process ended: its exit code, or the signal that killed it."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@dataclass
class Supervisor:
    """Restart children that stop, until told to stop; then stop every child, last started first."""

    children: Sequence[Supervised]
    backoff: Backoff = field(default_factory=Backoff)
    echo: bool = True
    say: Callable[[str], None] = field(default=lambda line: print(line, flush=True))
    clock: Callable[[], float] = time.monotonic
    restarts: dict[str, int] = field(default_factory=dict)
    due: dict[str, float] = field(default_factory=dict)

    def start_all(self) -> None:
        """Start every child."""
        for child in self.children:
            child.start(self.echo)

    def check(self) -> None:
        """Schedule a restart for each child that stopped; restart those whose delay is over."""
        now = self.clock()
        for child in self.children:
            if child.name in self.due:
                if now >= self.due[child.name]:
                    del self.due[child.name]
                    self.restarts[child.name] = self.restarts.get(child.name, 0) + 1
                    self.say(f"supervisor | restarting {child.name} (restart {self.restarts[child.name]})")
                    child.start(self.echo)
                continue
            code = child.exit_code()
            if code is None:
                continue
            wait = self.backoff.delay(child.name, now - child.started_at)
            self.due[child.name] = now + wait
            self.say(f"supervisor | {child.name} stopped ({describe_exit(code)}); restarting in {wait:g} s")

    def run(self, stopping: threading.Event, interval: float = 0.5,
            every_round: Callable[[], None] | None = None) -> None:
        """Supervise until the event is set, calling every_round after each check."""
        while not stopping.is_set():
            self.check()
            if every_round:
                every_round()
            stopping.wait(interval)

    def stop_all(self) -> None:
        """Stop every child, the last started first."""
        for child in reversed(self.children):
            child.stop()


def stop_on_signals(stopping: threading.Event) -> None:
    """Set the event on Ctrl-C, SIGTERM or SIGHUP (also when started in the background)."""
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, lambda *_: stopping.set())
