"""The `mira` command: global options, the list of commands, and the one place where
exceptions become exit codes (0 ok, 1 data or runtime error, 2 usage error, 130 Ctrl-C)."""

import importlib
import sys
import traceback
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from mira import __version__
from mira.errors import MiraError, OptionError
from mira_cli import output

app = typer.Typer(
    name="mira",
    cls=TyperGroup,
    help="Prepare object-detection datasets stored as SceneCollection tarballs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: command name → module in mira_cli.commands defining `run`; one line per command.
COMMANDS: dict[str, str] = {
    "import-qsl": "import_qsl",
    "import": "import_format",
    "export": "export_format",
    "stats": "stats",
    "render": "render",
    "placeholder": "placeholder",
    "split": "split",
    "augment": "augment",
    "dedupe": "dedupe",
    "tile": "tile",
    "merge": "merge",
    "filter": "filter",
    "remap": "remap",
    "evaluate": "evaluate",
    "fingerprint": "fingerprint",
}


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"mira {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks for errors.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars, tables or messages on stderr.")
    ] = False,
) -> None:
    """Prepare object-detection datasets stored as SceneCollection tarballs."""
    output.settings.verbose = verbose
    output.settings.quiet = quiet


for _name, _module in COMMANDS.items():
    _command = importlib.import_module(f"mira_cli.commands.{_module}")
    app.command(_name, cls=getattr(_command, "COMMAND_CLASS", TyperCommand))(_command.run)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except OptionError as exc:  # an option value this input cannot honour: a usage error
        _fail(str(exc), exc, code=2)
    except MiraError as exc:
        _fail(str(exc), exc)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(f"{where}{exc.strerror or exc}", exc)


def _fail(message: str, exc: BaseException, code: int = 1) -> None:
    if output.settings.verbose:
        traceback.print_exception(exc)
    output.error(message)
    sys.exit(code)
