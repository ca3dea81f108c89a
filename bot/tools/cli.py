"""The `lantern` command: one entry point for every operator tool (`lantern --help`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import import_module

from bot.core.settings import DOTENV, SettingsError, load_dotenv
from bot.tools.dotenv_secrets import write_fresh_dotenv

# command -> (module, function, what it does). Modules load only when their command runs,
# so `lantern fingerprint` works before the heavy dependencies are importable.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("bot.tools.stack", "main", "start Redis (if needed), Rasa, actions, workers and the gateway"),
    "chat": ("bot.tools.chat", "main", "text the running gateway from the terminal, signed like Twilio"),
    "sweeper": ("bot.handoff.sweeper", "main", "remind staff about unclaimed cases, every few seconds"),
    "worker": ("bot.handoff.worker", "main", "run queued jobs: on-call alerts, Rasa pause/resume, staff replies"),
    "staff-user": ("bot.staff.accounts", "main", "create a staff account"),
    "rotate-keys": ("bot.tools.key_rotation", "main", "re-encrypt stored data with the first ENCRYPTION_KEYS key"),
    "lang-check": ("bot.language.check", "main", "check every language's catalog, data and NLU examples"),
    "import-resources": ("bot.resources.csv_import", "main", "convert a CSV directory into directory YAML"),
    "fingerprint": ("bot.tools.fingerprint", "main", "print the hash of what the model is trained from"),
}


def usage() -> str:
    """Return the help text listing every command."""
    lines = ["usage: lantern COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<17} {about}" for name, (_, _, about) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the named command with the remaining arguments."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help") or args[0] not in COMMANDS:
        print(usage(), file=sys.stderr if args and args[0] not in ("-h", "--help", "help") else sys.stdout)
        return 0 if not args or args[0] in ("-h", "--help", "help") else 2
    if args[0] == "run" and write_fresh_dotenv(DOTENV):
        print(f"Wrote {DOTENV.name} with freshly generated secrets (mode 0600; they are not shown).")
    try:
        load_dotenv(os.environ)  # .env is read here, by Python, not by make; the environment wins
        module, function, _ = COMMANDS[args[0]]
        command: Callable[[list[str]], int | None] = getattr(import_module(module), function)
        return int(command(args[1:]) or 0)
    except SettingsError as exc:
        print(f"lantern {args[0]}: refusing to start: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
