"""What `--help` shows is what the options say, and the global options work after the
command name too."""

from __future__ import annotations

import json

import pytest
import typer.main

from mira_cli.app import app

GROUP = typer.main.get_command(app)
ROOT_CTX = GROUP.context_class(GROUP, info_name="mira", **GROUP.context_settings)
NAMES = list(GROUP.list_commands(ROOT_CTX))


def params(name: str) -> list:
    command = GROUP.get_command(ROOT_CTX, name)
    ctx = command.context_class(command, info_name=name, parent=ROOT_CTX)
    return command.get_params(ctx)


def squeezed(text: str) -> str:
    """Text without its white space: help is wrapped to the terminal's width."""
    return "".join(text.split())


@pytest.mark.parametrize("name", NAMES)
def test_help_shows_every_option_with_its_whole_description(mira, name):
    result = mira(name, "--help")
    assert result.returncode == 0, result.stderr
    shown = squeezed(result.stdout)
    for param in params(name):
        names = [param.metavar] if param.param_type_name == "argument" else param.opts
        for option in [*names, *param.secondary_opts]:
            assert option in result.stdout, (name, option)
        if param.help:
            assert squeezed(param.help) in shown, (name, param.name, param.help)
    assert "<bool>" not in result.stdout  # flags take no value
    assert squeezed(GROUP.get_command(ROOT_CTX, name).help.split("\n\n")[0]) in shown


def test_help_keeps_square_brackets(mira):
    """They are not taken for markup (rich ate "[r, g, b]" and "[default: ...]")."""
    result = mira("placeholder", "--help")
    assert "[r, g, b]" in result.stdout and "[default: distinct colours]" in result.stdout
    result = mira("render", "--help")
    assert squeezed("Worker processes for image work [default: all cores].") in squeezed(
        result.stdout
    )


def test_the_app_help_lists_every_command_and_global_option(mira):
    result = mira("--help")
    assert result.returncode == 0
    for name in NAMES:
        assert f"  {name} " in result.stdout
    for option in ("--version", "-v, --verbose", "-q, --quiet", "-h, --help"):
        assert option in result.stdout


def test_global_options_after_the_command_name(mira, tmp_path):
    """`mira import-qsl ... -q` and `mira stats x.tar -v`, as the issue wrote them."""
    from pathlib import Path

    project = Path(__file__).resolve().parents[2] / "sample" / "project.json"
    quiet = mira("import-qsl", project, "-o", tmp_path / "data.tar", "-q")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    loud = mira("import-qsl", project, "-o", tmp_path / "again.tar")
    assert loud.returncode == 0 and loud.stdout.startswith("Imported 14 of 16 items")
    stats = mira("stats", tmp_path / "data.tar", "--json", "--quiet", "--verbose")
    assert stats.returncode == 0 and json.loads(stats.stdout)["scenes"] == 14

    missing = tmp_path / "missing.tar"
    for argv in (
        ["stats", missing, "-v"],
        ["-v", "stats", missing],
        ["stats", "--verbose", missing],
    ):
        verbose = mira(*argv)
        assert verbose.returncode == 1, argv
        assert "Traceback (most recent call last)" in verbose.stderr, argv
        assert verbose.stderr.endswith(f"error: {missing}: no such file\n")
    plain = mira("stats", missing)
    assert plain.stderr == f"error: {missing}: no such file\n"
