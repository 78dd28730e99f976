"""CLI tests run the installed `mira` as a user would: a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

MIRA = shutil.which("mira", path=str(Path(sys.executable).parent)) or "mira"


@pytest.fixture
def mira() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `mira ARGS...`; returns the CompletedProcess (text mode, not checked).

    Keyword `input` feeds stdin (bytes when `binary=True`), `cwd` sets the folder.
    """

    def run(
        *args: object,
        input: str | bytes | None = None,
        cwd: str | Path | None = None,
        binary: bool = False,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
        return subprocess.run(
            [MIRA, *map(str, args)],
            input=input,
            capture_output=True,
            text=not binary,
            cwd=cwd,
            env=environment,
            timeout=300,
        )

    return run
