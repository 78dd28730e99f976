"""The `mira` command: global options, the list of commands, and the one place where
exceptions and signals become exit codes: 0 ok, 1 data or runtime error, 2 usage error,
128 + N after signal N (129 SIGHUP, 130 SIGINT/Ctrl-C, 143 SIGTERM) and 141 when standard
output is closed early (as if killed by SIGPIPE, like other Unix tools)."""

import copy
import importlib
import os
import signal
import sys
import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from mira import __version__
from mira.errors import MiraError, OptionError
from mira_cli import output

#: The app's options that every command accepts after its name too.
GLOBAL_OPTIONS = ("verbose", "quiet")
#: Signals that end a command through its clean-up paths, like Ctrl-C does.
TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
STDOUT_CLOSED = 128 + signal.SIGPIPE


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread as SIGINT raises KeyboardInterrupt, so
    every clean-up path (finally, with, except BaseException) runs: temporary outputs are
    removed, worker pools and the copying process stopped. Not an Exception, so that code
    handling errors does not take it for one."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _StdoutClosed(BaseException):
    """Standard output was closed by its reader (EPIPE): nothing more can be said."""


class MiraGroup(TyperGroup):
    """The `mira` group: a closed standard output ends any command quietly (typer would
    exit 1 without a word)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _StdoutClosed from None


app = typer.Typer(
    name="mira",
    cls=MiraGroup,
    help="Prepare object-detection datasets stored as SceneCollection tarballs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # help texts are shown as written: '[r, g, b]' stays
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


def _set_global(ctx: Any, param: Any, value: bool) -> None:
    if value:  # given after the command name; the app's own option may have set it already
        setattr(output.settings, param.name, True)


class _TakesGlobalOptions:
    """A command that also accepts the app's --verbose and --quiet after its name
    (`mira stats x.tar -v`): the app's own option objects, set through a callback."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        root_ctx = ctx.find_root()
        if root_ctx is ctx:  # built on its own, outside the app
            return params
        extra = []
        for param in root_ctx.command.get_params(root_ctx):
            if param.name in GLOBAL_OPTIONS:
                option = copy.copy(param)
                option.expose_value = False
                option.callback = _set_global
                extra.append(option)
        return params[:-1] + extra + params[-1:]  # before --help, which comes last


def _offending(error: BaseException) -> Any:
    """The value typer refused, from pydantic's error details (down to the item of a list),
    or None when they do not say."""
    details = getattr(error.__cause__, "errors", None)
    try:
        return details()[0]["input"] if details else None
    except (IndexError, KeyError, TypeError):
        return None


class _NamesBadValues:
    """A command whose bad option values are named: pydantic's messages ("Input should be
    a valid number") do not say which of `--sizes a b` was refused."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except typer.BadParameter as error:
            offending = _offending(error)
            if offending is not None and repr(offending) not in error.message:
                error.message = f"{error.message} (got {offending!r})"
            raise


for _name, _module in COMMANDS.items():
    _command = importlib.import_module(f"mira_cli.commands.{_module}")
    _base = getattr(_command, "COMMAND_CLASS", TyperCommand)
    _mixins = (_NamesBadValues, _TakesGlobalOptions, _base)
    _cls = type(_base.__name__, _mixins, {"__doc__": _base.__doc__})
    app.command(_name, cls=_cls)(_command.run)


def main() -> None:
    """Console-script entry point."""
    _handle_signals()
    code = _run()
    sys.exit(code)  # outside every except block: the exception and its frames are gone


def _run() -> Any:
    """Run the app; returns the exit status."""
    try:
        try:
            app()
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except SystemExit as exc:
        return exc.code
    except Terminated as exc:
        return 128 + exc.signum
    except OptionError as exc:  # an option value this input cannot honour: a usage error
        return _fail(str(exc), exc, code=2)
    except (_StdoutClosed, BrokenPipeError):
        _discard_stdout()
        return STDOUT_CLOSED
    except MiraError as exc:
        return _fail(str(exc), exc)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}", exc)
    return 0


def _handle_signals() -> None:
    """SIGTERM and SIGHUP raise `Terminated`; a signal ignored when mira started (nohup)
    stays ignored. The first signal ignores the next ones (SIGINT too), so that clean-up is
    not cut short by a second one."""

    def terminate(signum: int, frame: Any) -> None:
        for number in (*TERMINATING_SIGNALS, signal.SIGINT):
            signal.signal(number, signal.SIG_IGN)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signum)

    for number in (*TERMINATING_SIGNALS, signal.SIGINT):
        if signal.getsignal(number) in (signal.SIG_DFL, signal.default_int_handler):
            signal.signal(number, terminate)


def _discard_stdout() -> None:
    """Point standard output at /dev/null, so that nothing fails at exit flushing it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _fail(message: str, exc: BaseException, code: int = 1) -> int:
    if output.settings.verbose:
        traceback.print_exception(exc)
    output.error(message)
    return code
