"""The layers stay apart: no typer/rich in the library; the CLI starts without cv2 or numpy."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_library_never_imports_typer_or_rich():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "mira").rglob("*.py")
        if imported_modules(p) & {"typer", "rich", "click"}
    ]
    assert offenders == []


def test_only_the_output_module_imports_rich():
    users = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "mira_cli").rglob("*.py")
        if "rich" in imported_modules(p)
    )
    assert users == ["mira_cli/output.py"]


def test_commands_read_and_write_only_through_the_pipeline():
    """A command parses, calls one library function and renders: sources, sinks and loops
    over scenes live in mira/ (mira.pipeline), never in a command module. (The registry of
    interchange formats is only a list of names.)"""
    offenders = []
    for path in sorted((ROOT / "mira_cli" / "commands").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            module = getattr(node, "module", None) or ""
            if module.startswith("mira.formats") and module != "mira.formats.interchange":
                offenders.append(f"{path.name}: imports {node.module}")
            if isinstance(node, ast.Name) and node.id in {
                "SceneWriter",
                "iter_scenes",
                "iter_stored",
            }:
                offenders.append(f"{path.name}: uses {node.id}")
    assert offenders == []


def test_cli_start_up_imports_no_heavy_modules():
    code = (
        "import sys; import mira_cli.app; "
        "print(sorted(m for m in ('cv2', 'albumentations', 'shapely', 'sklearn', 'numpy') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_modules_typer_reads_have_no_string_annotations():
    """Typer evaluates the string annotations of every command at each start (~5 ms)."""
    cli = ROOT / "mira_cli"
    read_by_typer = [cli / "app.py", cli / "options.py", *(cli / "commands").glob("*.py")]
    offenders = [
        str(p.relative_to(ROOT))
        for p in read_by_typer
        if "from __future__ import annotations" in p.read_text()
    ]
    assert offenders == []


def test_public_api():
    import mira.core

    assert sorted(mira.core.__all__) == [
        "Annotation",
        "Categories",
        "Category",
        "Dimensions",
        "ImageSource",
        "Label",
        "MaskRegion",
        "Scene",
        "SceneCollection",
    ]
    assert all(hasattr(mira.core, name) for name in mira.core.__all__)
