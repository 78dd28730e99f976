"""Streaming XML: items one at a time, with their lines, and no DTD ever accepted."""

from __future__ import annotations

import pytest

from mira.errors import FormatError
from mira.formats.xml_stream import element_value, iter_items, line_of


def write(tmp_path, text: str, name: str = "doc.xml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_children_of_the_root_come_one_by_one_with_their_lines(tmp_path):
    path = write(tmp_path, '<root>\n  <a x="1"><b>t</b></a>\n\n  <c/>\n</root>\n')
    items = list(iter_items(path, "root"))
    assert [e.tag for e in items] == ["a", "c"]
    assert [line_of(e) for e in items] == [2, 4]
    assert items[0].get("x") == "1" and items[0].findtext("b") == "t"
    assert line_of(items[0].find("b")) == 2


def test_depth_zero_yields_the_root(tmp_path):
    path = write(tmp_path, "<annotation><filename>a.jpg</filename></annotation>")
    (root,) = iter_items(path, "annotation", depth=0)
    assert root.findtext("filename") == "a.jpg"


def test_an_item_is_yielded_before_the_rest_of_the_file_is_read(tmp_path):
    """The tail of this file is broken: the first items still come out before the error."""
    body = "".join(f'<item n="{i}">{"x" * 100}</item>\n' for i in range(2000))
    path = write(tmp_path, f"<root>\n{body}<broken></root>")
    items = iter_items(path, "root")
    assert next(items).get("n") == "0"
    with pytest.raises(
        FormatError, match=r"line 2002 column \d+: not well-formed XML: mismatched tag"
    ):
        list(items)


def test_the_wrong_root_is_named(tmp_path):
    path = write(tmp_path, "<annotations/>")
    with pytest.raises(
        FormatError, match=r"the root element is <annotations>, expected <annotation>"
    ):
        list(iter_items(path, "annotation", depth=0))


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">',
    ],
    ids=["entity-expansion", "external-entity", "external-dtd"],
)
def test_a_doctype_is_refused_before_any_entity(tmp_path, doctype):
    path = write(tmp_path, f'<?xml version="1.0"?>\n{doctype}\n<r>&b;</r>')
    with pytest.raises(FormatError, match=r"doc.xml: line 2: a DOCTYPE is not allowed"):
        list(iter_items(path, "r", depth=0))


def test_malformed_missing_and_empty_files_are_named(tmp_path):
    with pytest.raises(FormatError, match=r"nope.xml: file not found"):
        list(iter_items(tmp_path / "nope.xml", "r"))
    path = write(tmp_path, "")
    with pytest.raises(
        FormatError, match=r"doc.xml: line 1 column 1: not well-formed XML: no element"
    ):
        list(iter_items(path, "r"))
    with pytest.raises(FormatError, match=r"is a directory"):
        list(iter_items(tmp_path, "r"))


def test_element_values_nest_and_repeat(tmp_path):
    path = write(
        tmp_path,
        "<o><name> dog </name><part><name>head</name></part><part><name>paw</name></part>"
        "<pose/></o>",
    )
    (root,) = iter_items(path, "o", depth=0)
    assert element_value(root) == {
        "name": "dog",
        "part": [{"name": "head"}, {"name": "paw"}],
        "pose": "",
    }
    assert element_value(root, skip=frozenset({"name", "part"})) == {"pose": ""}
