"""The house rules, checked on the source: each layer imports only the layers below it (as
DESIGN.md's table says), the faces reach the product through the session alone, and no two
modules import each other, directly or round a longer circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "assistant"

# layer -> the layers it may import (its own always allowed)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "model": {"core"},
    "store": {"model", "core"},
    "ingest": {"store", "core"},
    "retrieve": {"store", "core"},
    "answer": {"retrieve", "store", "model", "core"},
    "session": {"answer", "retrieve", "ingest", "store", "model", "core"},
    # eval scores through the session; bench times the parts too
    "measure": {"session", "core"},
    "measure.bench": {"session", "answer", "retrieve", "ingest", "store", "model", "core"},
    # the CLI also runs the measuring commands, which stand above the session
    "face": {"session", "core"},
    "face.cli": {"session", "core", "measure"},
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every project module `path` imports, at the top, inside functions or for type checks."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("assistant")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            if base.startswith("assistant"):
                found |= {f"{base}.{alias.name}" for alias in node.names} | {base}
    return found


def modules() -> dict[str, set[str]]:
    """Module -> the project modules (existing ones only) it imports."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {dep for dep in imports_of(path) if dep in paths and dep != name} for name, path in paths.items()}


def layer(module: str) -> str | None:
    """The layer a module belongs to: `assistant.answer.ask` -> "answer"; the package's own
    `__init__`/`__main__` stand outside the layers."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in ("__main__",):
        return None
    if parts[0] == "session":
        return "session"
    if len(parts) > 1 and ".".join(parts[:2]) in ALLOWED:
        return ".".join(parts[:2])
    return parts[0]


def family(name: str) -> str:
    return name.split(".")[0]


def test_every_module_belongs_to_a_layer() -> None:
    strays = [m for m in modules() if layer(m) is not None and layer(m) not in ALLOWED]
    assert strays == []


def test_no_layer_imports_from_above() -> None:
    wrong = []
    for module, deps in modules().items():
        own = layer(module)
        if own is None:
            continue
        for dep in deps:
            theirs = layer(dep)
            if theirs is None or family(theirs) == family(own):
                continue
            allowed = ALLOWED[own] | {family(a) for a in ALLOWED[own]}
            if theirs not in allowed and family(theirs) not in allowed:
                wrong.append(f"{module} -> {dep}")
    assert sorted(wrong) == []


@pytest.mark.parametrize(("face", "reachable"), [
    ("assistant.face.tui", {"session", "core"}),
    ("assistant.face.cli", {"session", "core", "measure"}),  # `eval` and `bench` are commands too
])
def test_faces_reach_only_the_session_and_the_core(face: str, reachable: set[str]) -> None:
    reached = {dep for module, deps in modules().items() if module.startswith(face) for dep in deps}
    # the package itself holds only its version
    beyond = sorted(d for d in reached if d != "assistant" and not d.startswith("assistant.face")
                    and family(layer(d) or "") not in reachable)
    assert beyond == []


def test_no_import_circles() -> None:
    graph = modules()
    # a package's __init__ importing its own modules is not a circle of jobs
    graph = {m: {d for d in deps if not m.startswith(d + ".") and not d.startswith(m + ".")} for m, deps in graph.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                circles.append([*stack[stack.index(dep):], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert circles == []


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    """The rules above can fail: a core module importing the session is caught."""
    fake = tmp_path / "assistant" / "core" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from assistant.session import Session\nfrom . import records\n")
    assert imports_of(fake, tmp_path / "assistant") == {"assistant.session", "assistant.session.Session",
                                             "assistant.core", "assistant.core.records"}
    assert layer("assistant.core.bad") == "core" and "session" not in ALLOWED["core"]
