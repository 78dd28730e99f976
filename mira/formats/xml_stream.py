"""XML files read as a stream of items, safely.

A CVAT export holds every image of a task in one file, so it is read item by item:
`iter_items(path, root, depth=1)` yields each child of the root element as a complete
element (its whole subtree) as soon as its end tag is parsed, then forgets it, so memory
holds one item whatever the file's size. ``depth=0`` yields the root itself (a VOC file).

Safety: a document with a DOCTYPE is refused outright, so no entity can be declared:
nothing external is ever fetched and nothing expands (no "billion laughs"). Parse errors
and the refusal are `FormatError`s naming the file, line and column. Every element also
records the line it starts on (`line_of`), so readers can say where a bad value is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from mira.errors import FormatError

__all__ = ["element_value", "iter_items", "line_of"]

_CHUNK = 1 << 16
#: Where each element's start line is kept: an attribute name no XML document can hold.
_LINE = "\x00line"


#: Far deeper than any format needs; what is read is then walked without running out of stack.
MAX_DEPTH = 256


def line_of(element: Element) -> int:
    """The line the element starts on in its file (0 when unknown)."""
    return int(element.get(_LINE, 0))


def element_value(element: Element, skip: frozenset[str] = frozenset()) -> Any:
    """An element as a metadata value: its text (stripped; "" when empty) when it has no
    children, else a dict of its children's values, a list where a tag repeats. With
    `skip`, always a dict, without the children named there."""
    children = [child for child in element if child.tag not in skip]
    if not children and not skip:
        return (element.text or "").strip()
    value: dict[str, Any] = {}
    for child in children:
        item = element_value(child)
        if child.tag not in value:
            value[child.tag] = item
        elif isinstance(value[child.tag], list):
            value[child.tag].append(item)
        else:
            value[child.tag] = [value[child.tag], item]
    return value


def iter_items(path: str | os.PathLike[str], root: str, depth: int = 1) -> Iterator[Element]:
    """The elements at `depth` below the root of the XML file at `path`, one at a time.

    The root element must be `root` (else a FormatError naming what it is). Attribute
    values and text are exactly as parsed; `line_of(element)` says where each starts.
    """
    name = os.fspath(path)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    done: list[Element] = []
    level = 0
    builder: TreeBuilder | None = None

    def refuse(*_: object) -> None:
        raise FormatError(
            f"{name}: line {parser.CurrentLineNumber}: a DOCTYPE is not allowed "
            "(entities are refused for safety)"
        )

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal level, builder
        if level == 0 and tag != root:
            raise FormatError(f"{name}: the root element is <{tag}>, expected <{root}>")
        if level == MAX_DEPTH:
            raise FormatError(
                f"{name}: line {parser.CurrentLineNumber}: elements nested deeper than "
                f"{MAX_DEPTH} levels"
            )
        if level == depth:
            builder = TreeBuilder()
        if builder is not None:
            attributes[_LINE] = str(parser.CurrentLineNumber)
            builder.start(tag, attributes)
        level += 1

    def end(tag: str) -> None:
        nonlocal level, builder
        level -= 1
        if builder is not None:
            builder.end(tag)
            if level == depth:
                done.append(builder.close())
                builder = None

    def data(text: str) -> None:
        if builder is not None:
            builder.data(text)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        with open(name, "rb") as file:
            while chunk := file.read(_CHUNK):
                _parse(parser, chunk, False, name)
                yield from done
                done.clear()
            _parse(parser, b"", True, name)
    except FileNotFoundError:
        raise FormatError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise FormatError(f"{name}: is a directory, not an XML file") from None
    except OSError as exc:
        raise FormatError(f"{name}: cannot read: {exc.strerror}") from None
    yield from done


def _parse(parser: expat.XMLParserType, chunk: bytes, final: bool, name: str) -> None:
    try:
        parser.Parse(chunk, final)
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) if exc.code is not None else str(exc)
        raise FormatError(
            f"{name}: line {exc.lineno} column {exc.offset + 1}: not well-formed XML: {reason}"
        ) from None
