"""One exception tree for the whole library.

    MiraError                      base: the CLI prints "error: <message>" and exits 1
     ├── ValidationError           an object or argument is invalid (also a ValueError)
     ├── FormatError               a file, tarball member or record is malformed
     ├── ImageError                image bytes cannot be decoded
     ├── ConfigError               a configuration file (pipeline, colormap) is wrong
     ├── OutputError               an output exists (needs force) or would overwrite an input
     └── MissingDataError          a dataset expected in a local folder is not there

Every message is one line that says what is wrong and where (file, member, value).
"""

from __future__ import annotations


class MiraError(Exception):
    """Base class of every error mira raises on purpose."""


class ValidationError(MiraError, ValueError):
    """An object or argument is invalid."""


class FormatError(MiraError):
    """A file, tarball member or record is malformed."""


class ImageError(MiraError):
    """Image bytes cannot be decoded."""


class ConfigError(MiraError):
    """A configuration file is wrong."""


class OutputError(MiraError):
    """An output cannot be written safely."""


class MissingDataError(MiraError, FileNotFoundError):
    """A dataset expected in a local folder is not there (mira downloads nothing)."""
