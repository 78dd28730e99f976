"""Differential tests: the same calls on the original library (mira==0.9.36) and on ours.

The original cannot be imported beside ours (same package name, Python < 3.12), so the
`original` fixture runs code with the python of `.venv-mira-0.9.36` (made by
tools/make_original_venv.sh) in a subprocess and hands back its `result`, moved through
JSON with numpy arrays kept as arrays. Without that venv every test using the fixture is
skipped, and pytest prints why.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
ORIGINAL_PYTHON = ROOT / ".venv-mira-0.9.36" / "bin" / "python"
SKIP_REASON = (
    "the original library's venv .venv-mira-0.9.36 is absent "
    "(create it with: bash tools/make_original_venv.sh)"
)

# Runs in the original's venv: read the inputs, run the test's code, print the result.
_PRELUDE = r"""
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")

def _decode(value):
    if isinstance(value, dict) and "__array__" in value:
        return np.array(value["__array__"], dtype=value["dtype"]).reshape(value["shape"])
    return value

def _encode(value):
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype), "shape": value.shape}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot send {type(value).__name__} back")

inputs = json.loads(sys.stdin.read(), object_hook=_decode)
globals().update(inputs)
"""
_EPILOGUE = r"""
sys.stdout.write("\n@@RESULT@@" + json.dumps(result, default=_encode))
"""


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype), "shape": value.shape}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} to the original")


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "__array__" in value:
        return np.array(value["__array__"], dtype=value["dtype"]).reshape(value["shape"])
    return value


def _environment() -> dict[str, str]:
    """The original must import its own `mira`: no PYTHONPATH, no user site, run from /."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "PYTHONNOUSERSITE": "1", "TQDM_DISABLE": "1", "MPLBACKEND": "Agg"}


@pytest.fixture
def original() -> Callable[..., Any]:
    """`original(code, **inputs)`: run `code` (which sets `result`) with the original
    library; keyword inputs are visible to it as variables."""
    if not ORIGINAL_PYTHON.exists():
        pytest.skip(SKIP_REASON)

    def run(code: str, **inputs: Any) -> Any:
        script = _PRELUDE + textwrap.dedent(code) + _EPILOGUE
        done = subprocess.run(
            [str(ORIGINAL_PYTHON), "-c", script],
            input=json.dumps(inputs, default=_encode),
            capture_output=True,
            text=True,
            cwd="/",
            env=_environment(),
            timeout=300,
        )
        if done.returncode != 0 or "@@RESULT@@" not in done.stdout:
            raise AssertionError(f"the original failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.rsplit("@@RESULT@@", 1)[1], object_hook=_decode)

    return run
