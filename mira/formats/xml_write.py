"""Small pieces for writing XML exports (VOC, CVAT) deterministically.

Numbers are written so they read back as the same float (integers without a point), so
an exported file re-imports to exactly the coordinates it was written from. Metadata
values become elements: a dict is an element with children, a list repeats its element,
a scalar is text; `element_value` (in the readers) turns them back.
"""

from __future__ import annotations

import math
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, indent, tostring

__all__ = [
    "add_value",
    "is_element_name",
    "is_scalar",
    "number_text",
    "scalar_text",
    "serialise",
    "writable",
]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


def number_text(value: float) -> str:
    """The shortest text that reads back as `value`: ``12`` for 12.0, ``12.5`` for 12.5."""
    number = float(value)
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def scalar_text(value: Any) -> str:
    """Text for a metadata scalar: booleans as 1/0 (as VOC and CVAT flags are)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and math.isfinite(value):
        return number_text(value)
    return str(value)


def is_element_name(name: Any) -> bool:
    """Whether `name` can be an XML element name (no spaces, not starting with a digit)."""
    return (
        isinstance(name, str) and bool(_NAME.fullmatch(name)) and not name.lower().startswith("xml")
    )


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def writable(value: Any) -> bool:
    """Whether `add_value` can write `value` as elements (every dict key a valid name)."""
    if isinstance(value, dict):
        return all(is_element_name(k) and writable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(writable(v) and not isinstance(v, list) for v in value)
    return is_scalar(value)


def add_value(parent: Element, tag: str, value: Any) -> None:
    """`value` under `parent` as element(s) named `tag` (see the module docstring); the
    caller checks `writable` first."""
    if isinstance(value, list):
        for item in value:
            add_value(parent, tag, item)
        return
    child = SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            add_value(child, key, item)
    else:
        child.text = scalar_text(value)


def serialise(element: Element, level: int = 0) -> bytes:
    """The element as indented UTF-8 XML (two spaces a level), ending with a newline."""
    indent(element, space="  ", level=level)
    text = tostring(element, encoding="unicode")
    return ("  " * level + text + "\n").encode("utf-8")
