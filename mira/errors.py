"""One exception tree for the whole library.

    MiraError                      base: the CLI prints "error: <message>" and exits 1
     ├── ValidationError           an object or argument is invalid (also a ValueError)
     │    └── OptionError          an option this input cannot honour (the CLI exits 2)
     ├── FormatError               a file, tarball member or record is malformed
     ├── ImageError                image bytes cannot be decoded
     ├── ConfigError               a configuration file (pipeline, colormap) is wrong
     ├── OutputError               an output exists (needs force) or would overwrite an input
     ├── StorageError              object storage cannot be reached, or refuses the request
     ├── EngineError               the engine (Ray) is not installed, cannot start, or failed
     └── MissingDataError          a dataset expected in a local folder is not there

Every message is one line that says what is wrong and where (file, member, value).
"""

from __future__ import annotations


class MiraError(Exception):
    """Base class of every error mira raises on purpose."""


class ValidationError(MiraError, ValueError):
    """An object or argument is invalid."""


class OptionError(ValidationError):
    """A valid option that the data cannot honour (an image with an alpha channel asked for
    as JPEG, a category the input does not have, a sample larger than the collection): a
    usage error, found only once that input is read. `option`, when known, is the library
    argument it concerns (e.g. "categories"), so the CLI can name its flag."""

    def __init__(self, message: str, option: str = "") -> None:
        super().__init__(message)
        self.option = option


class FormatError(MiraError):
    """A file, tarball member or record is malformed."""


class ImageError(MiraError):
    """Image bytes cannot be decoded."""


class ConfigError(MiraError):
    """A configuration file is wrong."""


class OutputError(MiraError):
    """An output cannot be written safely."""


class StorageError(MiraError):
    """Object storage (an s3:// or gs:// URL) cannot be reached or refuses the request."""


class EngineError(MiraError):
    """The engine that runs the work (Ray) is not installed, cannot start, or failed."""


class MissingDataError(MiraError, FileNotFoundError):
    """A dataset expected in a local folder is not there (mira downloads nothing)."""
