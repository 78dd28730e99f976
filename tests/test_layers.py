"""The layers stay apart: no typer/rich in the library; the CLI starts without cv2, pydantic."""

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


def test_commands_start_without_pydantic(tmp_path):
    """Typer 0.29 converts option values with pydantic (~0.1 s to import); we do not."""
    missing, out = tmp_path / "missing.tar", tmp_path / "out.tar"
    commands = [
        ["dedupe", missing, "-o", out, "--threshold", "0.5", "--method", "coverage", "--json"],
        ["split", missing, "--sizes", "0.7", "0.3", "--names", "a", "b", "--seed", "3"],
        ["stats", missing, "--by", "categories"],
        ["tile", missing, "-o", out, "--max-size", "64", "--overlap", "0.2", "--mode", "grid"],
        ["render", missing, "-o", tmp_path, "--limit", "3", "--format", "png"],
        ["placeholder", missing, "-o", out, "--format", "legacy", "--shard-size", "2"],
    ]
    code = (
        "import sys; from mira_cli.app import main; sys.argv[0] = 'mira'\n"
        "try: main()\n"
        "except SystemExit as exit: print(exit.code, 'pydantic' in sys.modules)"
    )
    for argv in commands:
        result = subprocess.run(
            [sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True
        )
        assert result.stdout.split() == ["1", "False"], (argv, result.stderr)


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


def test_numpy_is_imported_on_first_use():
    code = """
import sys
from mira.lazy_numpy import lazy_numpy, loaded_numpy
namespace = {}
namespace["np"] = lazy_numpy(namespace)
assert "numpy" not in sys.modules and loaded_numpy() is None
from mira.core import Categories, Scene
cats = Categories(["a", "b"])
assert cats[1] is cats["b"]  # telling numpy numbers apart needs no numpy
assert Scene(cats, b"not decoded").image_source.file_range is None
assert "numpy" not in sys.modules
assert namespace["np"].zeros(2).tolist() == [0.0, 0.0]
assert namespace["np"] is sys.modules["numpy"] is loaded_numpy()  # the stand-in is gone
assert lazy_numpy({}) is sys.modules["numpy"]
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dedupe_of_boxes_and_simple_polygons_never_imports_numpy(tmp_path):
    """Reading, deduplicating and writing scenes of a few shapes is plain Python: numpy
    would be a third of the run time of `mira dedupe` on a thousand scenes."""
    from mira.core import Annotation, Categories, Scene, SceneCollection
    from mira.core.image import encode_image
    from tests.conftest import make_image

    cats = Categories(["box", "triangle"])
    triangle = [[5.0, 0.0], [15.0, 0.0], [5.0, 10.0]]
    annotations = [
        Annotation(cats["box"], 0, 0, 10, 10),
        Annotation(cats["box"], 0, 0, 10, 10.5),
        Annotation(cats["triangle"], points=triangle),
        Annotation(cats["triangle"], points=[[5.1, 0.0], [15.1, 0.0], [5.1, 10.5]]),
    ]
    image = encode_image(make_image(), "jpg")
    scenes = [Scene(cats, image, annotations, key=f"s{i}") for i in range(3)]
    SceneCollection(scenes, cats).save(tmp_path / "in.tar")
    code = f"""
import atexit, sys
from mira_cli.app import main
atexit.register(lambda: sys.stderr.write(f"numpy: {{'numpy' in sys.modules}}\\n"))
sys.argv = ["mira", "dedupe", "{tmp_path / "in.tar"}", "-o", "{tmp_path / "out.tar"}", "--threshold", "0.9"]
main()
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "numpy: False\n"
    assert result.stdout.splitlines()[0] == "Removed 6 of 12 annotations in 3 scenes"
