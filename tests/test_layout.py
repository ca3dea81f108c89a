"""The shape of the code: small top level, no import loops, no imports from above, a consistent domain."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from bot.language.check import domain_problems

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"


def module_name(path: Path) -> str:
    """Return the dotted module name of a file under the repository root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """Return the bot modules a file imports when it is loaded (not inside functions)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if (ROOT / (candidate.replace(".", "/") + ".py")).exists() else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("bot")}
    return found


def import_graph() -> dict[str, set[str]]:
    """Map every bot module to the bot modules it imports at load time."""
    return {module_name(path): top_level_imports(path) for path in BOT.rglob("*.py")}


def test_bot_shows_the_architecture_in_a_few_entries() -> None:
    entries = [p.name for p in BOT.iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 11, sorted(entries)


def test_there_are_no_import_loops() -> None:
    graph = import_graph()
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, " -> ".join(visiting[visiting.index(module):] + [module])
        visiting.append(module)
        for target in graph.get(module, set()):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in graph:
        visit(module)


def test_no_module_imports_from_a_package_above_it() -> None:
    graph = import_graph()
    upward = []
    for module, targets in graph.items():
        package = module.rsplit(".", 1)[0]
        for target in targets:
            target_package = target.rsplit(".", 1)[0]
            if target_package != package and package.startswith(target_package + "."):
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_every_response_has_english_and_every_menu_choice_an_intent() -> None:
    assert domain_problems() == []


def test_the_domain_check_finds_a_menu_pointing_nowhere(tmp_path: Path) -> None:
    (tmp_path / "domain").mkdir()
    for path in (ROOT / "domain").glob("*.yml"):
        (tmp_path / "domain" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    menus = yaml.safe_load((tmp_path / "domain" / "menus.yml").read_text(encoding="utf-8"))
    menus["menus"]["utter_main_menu"][7] = "no_such_intent"
    (tmp_path / "domain" / "menus.yml").write_text(yaml.safe_dump(menus), encoding="utf-8")
    expected = "domain: menu utter_main_menu choice 7 points at unknown intent no_such_intent"
    assert domain_problems(tmp_path) == [expected]
