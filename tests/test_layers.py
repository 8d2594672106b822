"""core/ must stay free of Qt: the CLI, servers and tests use it without a display."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "audionet_gui"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_never_imports_qt():
    offenders = {}
    for path in (PACKAGE / "core").rglob("*.py"):
        qt = {m for m in imported_modules(path) if m.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6")}
        if qt:
            offenders[str(path.relative_to(PACKAGE))] = qt
    assert offenders == {}


def test_core_and_cli_import_without_qt_loaded():
    import subprocess
    import sys

    code = ("import sys, audionet_gui.cli, audionet_gui.core.convert, audionet_gui.core.dataset;"
            "audionet_gui.cli.build_parser();"
            "bad=[m for m in sys.modules if m.startswith(('PySide6','pyqtgraph'))]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
