"""The architecture as tests: core/ stays free of Qt, and no two modules import each other."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "audionet_gui"
QT_ROOTS = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file, relative imports resolved, ``from pkg import mod``
    counted as an import of ``pkg.mod`` when that is a module of ours."""
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imported_modules(path) if m in modules and m != name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_core_never_imports_qt():
    offenders = {}
    for path in (PACKAGE / "core").rglob("*.py"):
        qt = {m for m in imported_modules(path) if m.split(".")[0] in QT_ROOTS}
        if qt:
            offenders[str(path.relative_to(PACKAGE))] = qt
    assert offenders == {}


def test_no_two_modules_import_each_other():
    assert cycles(import_graph()) == []


def test_cycle_finder_sees_indirect_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_core_and_cli_import_without_qt_loaded():
    code = ("import sys, audionet_gui.cli, audionet_gui.core.data.convert, audionet_gui.core.data.dataset;"
            "audionet_gui.cli.build_parser();"
            "bad=[m for m in sys.modules if m.startswith(('PySide6','pyqtgraph'))]; print(bad);"
            "sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
