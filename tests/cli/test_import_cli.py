"""`mira import FORMAT`: the one import command; `import qsl` is `import-qsl`."""

from __future__ import annotations

import json
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "sample" / "project.json"


def test_import_qsl_is_import_dash_qsl(mira, tmp_path):
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    assert mira("import-qsl", SAMPLE, "-o", first).returncode == 0
    result = mira("import", "qsl", SAMPLE, "-o", second, "--json")
    assert result.returncode == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    report = json.loads(result.stdout)
    assert (report["format"], report["scenes"], report["annotations"]) == ("qsl", 14, 76)


def test_key_prefix_goes_in_front_of_every_key(mira, tmp_path):
    out = tmp_path / "p.tar"
    assert mira("import", "qsl", SAMPLE, "-o", out, "--key-prefix", "cam1-").returncode == 0
    import tarfile

    names = tarfile.open(out).getnames()
    assert names[:2] == ["cam1-000000.json", "cam1-000000.jpg"]
    assert len(names) == 28 and all(n.startswith("cam1-0000") for n in names)


def test_a_prefix_that_is_not_a_safe_name_is_a_usage_error(mira, tmp_path):
    result = mira("import", "qsl", SAMPLE, "-o", tmp_path / "x.tar", "--key-prefix", "../up")
    assert result.returncode == 2
    assert "key prefix '../up' must be letters, digits" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_format_is_a_usage_error(mira, tmp_path):
    result = mira("import", "nope", SAMPLE, "-o", tmp_path / "x.tar")
    assert result.returncode == 2
    assert "'nope' is not one of" in result.stderr
    assert list(tmp_path.iterdir()) == []
