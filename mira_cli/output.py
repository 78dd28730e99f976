"""The only module that talks to the terminal: tables or JSON on stdout, messages and
progress on stderr. Commands hand it plain data; it decides how to show it."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Settings:
    verbose: bool = False
    quiet: bool = False


settings = Settings()


@dataclass
class Table:
    """A titled table: column headers and rows of plain values."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)


def encoded_table(encoded: dict[str, int]) -> Table:
    """The images a pixel command wrote, by encoding (``jpg q90``, ``png``...)."""
    return Table("Images written", ["encoding", "images"], [[k, n] for k, n in encoded.items()])


def _console(stream: Any) -> Any:
    from rich.console import Console

    terminal = stream.isatty()
    return Console(file=stream, width=None if terminal else 160, soft_wrap=not terminal)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: wide (East Asian) characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _plain_table(spec: Table) -> str:
    """A table for pipes and logs: its title, then aligned columns two spaces apart (the
    first left-aligned, the others right-aligned), no borders to strip."""
    rows = [list(spec.columns), *([_cell(v) for v in row] for row in spec.rows)]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(spec.columns))]
    lines = [spec.title]
    for row in rows:
        cells = [
            cell + " " * (width - _width(cell)) if i == 0 else " " * (width - _width(cell)) + cell
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def emit(
    report: dict[str, Any], tables: Iterable[Table], json_mode: bool, output: str | None = None
) -> None:
    """Print `report` as one JSON document (with --json) or the given tables: drawn by rich
    on a terminal, as plain aligned text elsewhere (which also spares importing rich).

    When `output` is "-" the tarball itself is on stdout, so the report goes to stderr.
    """
    stream = sys.stderr if output == "-" else sys.stdout
    if json_mode:
        stream.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        return
    if settings.quiet:
        return
    if not stream.isatty():
        stream.write("\n".join(_plain_table(spec) for spec in tables))
        return
    from rich.table import Table as RichTable

    console = _console(stream)
    for spec in tables:
        table = RichTable(title=spec.title, title_justify="left")
        for i, name in enumerate(spec.columns):
            table.add_column(name, justify="left" if i == 0 else "right")
        for row in spec.rows:
            table.add_row(*(_cell(v) for v in row))
        console.print(table)


def error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


def progress(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Show a progress bar on stderr when it is a terminal and --quiet is off."""
    if settings.quiet or not sys.stderr.isatty():
        yield from items
        return
    from rich.progress import Progress

    with Progress(console=_console(sys.stderr), transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


def undecodable_tables(report: dict[str, Any]) -> list[Table]:
    """With --skip-undecodable: the scenes left out, and the first errors."""
    skipped = report.get("undecodable")
    if skipped is None:
        return []
    rows = [[skipped["count"], message] for message in skipped["examples"][:5]]
    return [Table("Undecodable images skipped", ["count", "first errors"], rows or [[0, ""]])]
