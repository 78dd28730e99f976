"""Every reader, fed mutated inputs, gives mira's own errors and never a partial output.

At least 10,000 cases per run by default, shared among the readers of `fuzz.READERS` by
their weights. For a longer run, or other cases:

    MIRA_FUZZ_CASES=200000 MIRA_FUZZ_SEED=7 .venv/bin/pytest tests/reliability

(`MIRA_FUZZ_CASES` is the total number of cases, `MIRA_FUZZ_SEED` picks the mutations;
a failure names both, and the case number, so it can be replayed.) Numpy's RuntimeWarnings
count as failures: they are how a value too large to compute with shows.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from mira.formats import tar_writer
from mira.formats.interchange import IMPORTS
from tests.reliability.fuzz import READERS, Reader, fuzz

#: A numpy overflow warning is how a coordinate too large to compute with shows.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
DEFAULT_CASES = 10_000
CASES = int(os.environ.get("MIRA_FUZZ_CASES", DEFAULT_CASES))
SEED = int(os.environ.get("MIRA_FUZZ_SEED", "0"))


def share(reader: Reader) -> int:
    """This reader's part of CASES (rounded up, so the total is at least CASES)."""
    total = sum(r.weight for r in READERS)
    return -(-CASES * reader.weight // total)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """The working folder and the temporary folder inside the checked tree, and images
    copied by the writer's thread: starting the copying process for each tiny case would
    take most of the run (that process has tests of its own)."""
    monkeypatch.setattr(tar_writer._CopyProcess, "start", classmethod(lambda cls, fd: None))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    return tmp_path


def test_a_run_has_at_least_the_cases_asked_for():
    assert DEFAULT_CASES >= 10_000
    assert sum(share(reader) for reader in READERS) >= CASES


def test_every_import_format_is_fuzzed():
    """A format added to `mira import` needs its entry in READERS (see tests/reliability/fuzz.py)."""
    assert {f"import {name}" for name in IMPORTS} <= {reader.name for reader in READERS}


@pytest.mark.parametrize("reader", READERS, ids=[r.name for r in READERS])
def test_mutated_inputs_give_only_mira_errors(reader, isolated):
    counts = fuzz(reader, share(reader), SEED, isolated)
    assert sum(counts.values()) == share(reader)
    assert counts["refused"] > 0  # the mutations do break inputs...
    assert counts["read"] > 0  # ...and some still read: the checks saw both outcomes
    assert os.listdir(isolated / "tmp") == []
