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


def module_level_imports(path: Path) -> set[str]:
    """The mira modules `path` imports when it is itself imported (not inside functions,
    not under TYPE_CHECKING)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name for name in names if name == "mira" or name.startswith("mira.")}


def test_formats_and_ops_do_not_import_each_other_in_a_loop():
    """Formats read and write scenes; ops transform them. An op may use a format, a format
    never needs an op, and no chain of module-level imports comes back to where it
    started (the facades in mira.core delegate to ops inside their methods)."""
    modules = {}
    for path in (ROOT / "mira").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = module_level_imports(path)
    formats_to_ops = sorted(
        f"{name} imports {target}"
        for name, targets in modules.items()
        if name.startswith("mira.formats")
        for target in targets
        if target.startswith("mira.ops")
    )
    assert formats_to_ops == []

    def cycle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            name, chain = stack.pop()
            for target in sorted(modules.get(name, ())):
                if target == start:
                    return [*chain, target]
                if target not in seen:
                    seen.add(target)
                    stack.append((target, [*chain, target]))
        return None

    cycles = [cycle for name in sorted(modules) if (cycle := cycle_from(name))]
    assert cycles == []


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
        "Encoding",
        "ImageSource",
        "Label",
        "MaskRegion",
        "Scene",
        "SceneCollection",
    ]
    assert all(hasattr(mira.core, name) for name in mira.core.__all__)
