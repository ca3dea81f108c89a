"""The supervisor restarts a crashed child with backoff and stops everything on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.core.settings import Settings
from bot.tools.stack import Addresses, Child, stack_children
from bot.tools.supervisor import Backoff, Supervisor, describe_exit

PY = sys.executable


def test_backoff_doubles_to_a_ceiling_and_resets_after_a_stable_run() -> None:
    backoff = Backoff(first=1, longest=60, stable=60)
    assert [backoff.delay("rasa", uptime=2) for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.delay("rasa", uptime=300) == 1, "a child that stayed up a while starts again at 1 s"
    assert backoff.delay("worker", uptime=0) == 1, "each child has its own count"


@pytest.mark.parametrize(("code", "said"), [(3, "exit code 3"), (0, "exit code 0"), (-9, "killed by SIGKILL")])
def test_the_log_says_why_a_child_stopped(code: int, said: str) -> None:
    assert describe_exit(code) == said


def test_a_crashing_child_is_restarted_with_backoff_and_the_others_keep_running() -> None:
    crashing = Child("sweeper", [PY, "-c", "import sys; sys.exit(3)"], dict(os.environ))
    steady = Child("gateway", [PY, "-c", "import time; time.sleep(60)"], dict(os.environ))
    said: list[str] = []
    supervisor = Supervisor([steady, crashing], Backoff(first=0.2, longest=0.8, stable=60), echo=False,
                            say=said.append)
    stopping = threading.Event()
    supervisor.start_all()
    assert steady.process
    steady_pid = steady.process.pid
    runner = threading.Thread(target=supervisor.run, args=(stopping, 0.05))
    runner.start()
    try:
        time.sleep(2.5)
    finally:
        stopping.set()
        runner.join()
        supervisor.stop_all()
    stops = [line for line in said if "sweeper stopped" in line]
    assert len(stops) >= 3 and all("exit code 3" in line for line in stops)
    delays = [float(line.rsplit("in ", 1)[1].split()[0]) for line in stops]
    assert delays[:3] == [0.2, 0.4, 0.8] and max(delays) == 0.8, said
    assert supervisor.restarts["sweeper"] >= 3 and "gateway" not in supervisor.restarts
    assert steady.process.pid == steady_pid and steady.exit_code() is not None, "stopped only at the end"


def test_sigterm_stops_the_whole_stack_cleanly(tmp_path: Path) -> None:
    """A supervisor process stops every child on SIGTERM and exits 0."""
    pids = tmp_path / "pids"
    script = f"""
import os, sys, threading
from bot.tools.stack import Child
from bot.tools.supervisor import Supervisor, stop_on_signals
children = [Child(f"c{{n}}", [sys.executable, "-c", "import time; time.sleep(120)"], dict(os.environ))
            for n in range(3)]
stopping = threading.Event()
stop_on_signals(stopping)
supervisor = Supervisor(children, echo=False)
supervisor.start_all()
open({str(pids)!r}, "w").write(" ".join(str(c.process.pid) for c in children))
try:
    supervisor.run(stopping, 0.05)
finally:
    supervisor.stop_all()
"""
    process = subprocess.Popen([PY, "-c", script], cwd=Path(__file__).resolve().parent.parent)
    deadline = time.monotonic() + 30
    while not (pids.exists() and pids.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    children = [int(pid) for pid in pids.read_text().split()]
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_make_run_describes_one_process_per_role(tmp_path: Path) -> None:
    """Gateway, NLG and console are separate gunicorn processes of the same app; Rasa calls the NLG one."""
    env = {"PATH": "/usr/bin", "RASA_PROCESSES": "2", "WORKER_PROCESSES": "2"}
    children = {c.name: c for c in stack_children(env, Settings(), tmp_path / "m.tar.gz",
                                                    Addresses.from_env(env))}
    assert {"rasa", "rasa1", "actions", "gateway", "nlg", "console", "sweeper"} <= set(children)
    for role in ("gateway", "nlg", "console"):
        assert children[role].env["LANTERN_ROLE"] == role and children[role].argv[-1] == "bot.app:create_app()"
    assert children["rasa"].env["NLG_URL"] == "http://127.0.0.1:5001/nlg"
    threads = int(children["console"].argv[children["console"].argv.index("--threads") + 1])
    assert threads >= Settings().console_streams_per_process + 8, "pages keep threads however many streams"
    from bot.tools.cli import COMMANDS

    if "worker" in COMMANDS:  # added by the RQ worker change
        assert {"worker", "worker1"} <= set(children)
        assert children["worker"].argv[-3:] == ["-m", "bot.tools.cli", "worker"]
