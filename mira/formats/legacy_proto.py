"""Protobuf message classes of the original library's tarball format, built at run time.

The wire schema (reference §4.3, proto3, package ``mira``) has been stable since 2022.
Building the descriptor here instead of checking in generated ``*_pb2.py`` code keeps
us independent of the protoc version and keeps the schema readable in one place.
The classes live in a private descriptor pool so they never clash with the original
library's own generated module if both are imported into one process.

Usage::

    from mira.formats.legacy_proto import messages
    m = messages()
    scene = m.Scene.FromString(data)
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

# (message name, [(field name, number, type, label, message type name or None)])
# The numbering of Annotation (x1=2, x2=3, y1=4, y2=5) is the original's, not a typo.
_OPTIONAL, _REPEATED = "optional", "repeated"
_SCHEMA: list[tuple[str, list[tuple[str, int, str, str, str | None]]]] = [
    ("Point", [("x", 1, "int32", _OPTIONAL, None), ("y", 2, "int32", _OPTIONAL, None)]),
    (
        "Annotation",
        [
            ("category", 1, "int32", _OPTIONAL, None),
            ("x1", 2, "int32", _OPTIONAL, None),
            ("x2", 3, "int32", _OPTIONAL, None),
            ("y1", 4, "int32", _OPTIONAL, None),
            ("y2", 5, "int32", _OPTIONAL, None),
            ("is_rect", 6, "bool", _OPTIONAL, None),
            ("points", 7, "message", _REPEATED, "Point"),
            ("score", 8, "float", _OPTIONAL, None),
            ("metadata", 9, "string", _OPTIONAL, None),
        ],
    ),
    (
        "Label",
        [
            ("category", 1, "int32", _OPTIONAL, None),
            ("score", 2, "float", _OPTIONAL, None),
            ("metadata", 3, "string", _OPTIONAL, None),
        ],
    ),
    ("Categories", [("categories", 1, "string", _REPEATED, None)]),
    (
        "Mask",
        [
            ("visible", 1, "bool", _OPTIONAL, None),
            ("name", 2, "string", _OPTIONAL, None),
            ("contour", 3, "message", _REPEATED, "Point"),
        ],
    ),
    (
        "Scene",
        [
            ("categories", 1, "message", _OPTIONAL, "Categories"),
            ("annotations", 2, "message", _REPEATED, "Annotation"),
            ("masks", 3, "message", _REPEATED, "Mask"),
            ("image", 4, "bytes", _OPTIONAL, None),
            ("metadata", 5, "string", _OPTIONAL, None),
            ("labels", 6, "message", _REPEATED, "Label"),
        ],
    ),
]

PACKAGE = "mira"
FILE_NAME = "mira/legacy_scene.proto"


def file_descriptor_proto():
    """The schema as a ``FileDescriptorProto`` (also handy to print as .proto text)."""
    from google.protobuf import descriptor_pb2

    fdp = descriptor_pb2.FileDescriptorProto(name=FILE_NAME, package=PACKAGE, syntax="proto3")
    field_type = descriptor_pb2.FieldDescriptorProto
    types = {
        "int32": field_type.TYPE_INT32,
        "bool": field_type.TYPE_BOOL,
        "float": field_type.TYPE_FLOAT,
        "string": field_type.TYPE_STRING,
        "bytes": field_type.TYPE_BYTES,
        "message": field_type.TYPE_MESSAGE,
    }
    labels = {_OPTIONAL: field_type.LABEL_OPTIONAL, _REPEATED: field_type.LABEL_REPEATED}
    for message_name, fields in _SCHEMA:
        message = fdp.message_type.add(name=message_name)
        for name, number, kind, label, type_name in fields:
            field = message.field.add(
                name=name, number=number, type=types[kind], label=labels[label]
            )
            if type_name is not None:
                field.type_name = f".{PACKAGE}.{type_name}"
    return fdp


@functools.lru_cache(maxsize=1)
def messages() -> SimpleNamespace:
    """Message classes ``Point, Annotation, Label, Categories, Mask, Scene`` (built once)."""
    from google.protobuf import descriptor_pool, message_factory

    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(file_descriptor_proto().SerializeToString())
    get_class = getattr(message_factory, "GetMessageClass", None)
    if get_class is None:  # protobuf < 4.22
        get_class = message_factory.MessageFactory(pool).GetPrototype
    classes = {}
    for message_name, _ in _SCHEMA:
        descriptor = pool.FindMessageTypeByName(f"{PACKAGE}.{message_name}")
        classes[message_name] = get_class(descriptor)
    return SimpleNamespace(**classes)
