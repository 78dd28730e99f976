"""Object storage: inputs and outputs named by URL (``s3://``, ``gs://``, any fsspec protocol).

Only URLs come here; local paths (and ``file://`` URLs, turned into paths first) keep their
own code, with its file ranges and copying process. A URL is read as a stream, never
downloaded first. A tarball written to a URL is spooled to a local temporary file and sent
as one object (`RemoteFile`): straight to its key on commit, or, when a sharded writer
finishes it before the job ends, under a temporary key beside the target that commit moves
into place; a failure deletes whatever was sent, so no object is left behind.

Credentials come from each backend's usual environment and config files; messages never
show them (`_redact`), and any refusal or failure of the service is one `StorageError`
naming the URL. The backends (fsspec, s3fs, gcsfs) are the ``cloud`` extra, imported on
first use.
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import re
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from mira.errors import FormatError, MiraError, OutputError, StorageError
from mira.formats.temporaries import spooled, temporary_file

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_GLOB_CHARS = frozenset("*?[")
#: Protocols whose first path component is a bucket, which must exist before writing.
_BUCKETS = frozenset({"s3", "s3a", "gs", "gcs"})
_CREDENTIALS = {
    "s3": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials",
    "gs": "GOOGLE_APPLICATION_CREDENTIALS, or gcloud's application-default credentials",
}
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL", re.IGNORECASE)
INSTALL = "pip install 'mira-cli[cloud]'"


def scheme(path: str) -> str | None:
    match = _SCHEME.match(path)
    return match.group(1).lower() if match else None


def is_url(path: Any) -> bool:
    """True for a URL that names object storage (any scheme but ``file``)."""
    return isinstance(path, str) and scheme(path) not in (None, "file")


def local_path(path: str) -> str:
    """A ``file://`` URL as its path (``file:///data/a.tar`` → ``/data/a.tar``); anything
    else unchanged."""
    return path[len("file://") :] if scheme(path) == "file" else path


def _redact(text: str) -> str:
    """`text` without the value of any credential-like environment variable."""
    for name, value in os.environ.items():
        if len(value) >= 8 and _SECRET_NAME.search(name) and value in text:
            text = text.replace(value, "***")
    return text


def _reason(exc: BaseException) -> str:
    return _redact(" ".join(str(exc).split()) or type(exc).__name__)


def _credentials_hint(url: str) -> str:
    where = _CREDENTIALS.get({"s3a": "s3", "gcs": "gs"}.get(scheme(url) or "", scheme(url) or ""))
    return f"check the credentials ({where})" if where else "check the credentials"


@contextlib.contextmanager
def translated(url: str, missing: str | None = None) -> Iterator[None]:
    """Backend errors as one line naming `url`: a missing object is a FormatError saying
    `missing` (when given), a refusal or any other failure a StorageError."""
    try:
        yield
    except MiraError:
        raise
    except FileNotFoundError as exc:
        if missing is None:
            raise StorageError(f"{url}: not found ({_reason(exc)})") from exc
        raise FormatError(f"{url}: {missing}") from exc
    except PermissionError as exc:
        raise StorageError(
            f"{url}: access denied ({_reason(exc)}); {_credentials_hint(url)}"
        ) from exc
    except ImportError as exc:
        raise StorageError(f"{url}: needs the cloud extra ({INSTALL}): {_reason(exc)}") from exc
    except Exception as exc:  # the backends raise their own types (botocore, google.auth)
        hint = f"; {_credentials_hint(url)}" if "credential" in str(exc).lower() else ""
        raise StorageError(f"{url}: {_reason(exc)}{hint}") from exc


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem for `url` and the path within it (``bucket/key``)."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise StorageError(f"{url}: URLs need the cloud extra: {INSTALL}") from None
    with translated(url):
        try:
            return url_to_fs(url)
        except ValueError as exc:  # "Protocol not known"
            raise StorageError(f"{url}: no storage backend for {scheme(url)}:// ({exc})") from exc


def expand(pattern: str) -> list[str]:
    """A URL, or the URLs a glob of them matches (sorted)."""
    fs, path = filesystem(pattern)
    if not _GLOB_CHARS & set(path):
        return [pattern]
    with translated(pattern):
        matches = sorted(fs.glob(path))
    if not matches:
        raise FormatError(f"{pattern}: no object matches this pattern")
    return [fs.unstrip_protocol(match) for match in matches]


class _Reader(io.RawIOBase):
    """An object's raw stream; a failure while reading is a StorageError too."""

    def __init__(self, url: str, raw: io.RawIOBase) -> None:
        self.url = url
        self.raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with translated(self.url):
            return self.raw.readinto(buffer) or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def open_input(url: str) -> IO[bytes]:
    """The object at `url`, streamed (see `object_stream`) and buffered so that a tar
    reader's small reads stay in memory."""
    from mira.formats.object_stream import CHUNK, open_stream  # asyncio: on first use

    fs, path = filesystem(url)
    if scheme(url) in _BUCKETS and "/" not in path.strip("/"):
        raise FormatError(f"{url}: is a bucket, not a tarball")
    with translated(url):
        try:
            raw = open_stream(fs, path)
        except (FileNotFoundError, IsADirectoryError):
            if fs.isdir(path):  # asked only now: one request fewer for every object
                raise FormatError(f"{url}: is a folder (prefix), not a tarball") from None
            raise FormatError(f"{url}: no such object") from None
    return io.BufferedReader(_Reader(url, raw), CHUNK)


def _normal(url: str) -> str:
    found = scheme(url) or ""
    found = {"s3a": "s3", "gcs": "gs"}.get(found, found)
    return f"{found}://{posixpath.normpath(url[_SCHEME.match(url).end() :])}"  # type: ignore[union-attr]


def same(a: str, b: str) -> bool:
    """Whether two URLs name the same object."""
    return is_url(a) and is_url(b) and _normal(a) == _normal(b)


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    with translated(url):
        fs.invalidate_cache()
        return bool(fs.exists(path))


def remove(url: str) -> None:
    fs, path = filesystem(url)
    with translated(url):
        fs.rm(path)


def _check_bucket(fs: Any, url: str, path: str) -> None:
    if scheme(url) in _BUCKETS:
        bucket = path.split("/", 1)[0]
        if not fs.exists(bucket):
            raise OutputError(f"{url}: bucket {bucket} does not exist")


def check_output(url: str, inputs: Iterable[Any] = (), force: bool = False) -> None:
    """`tario.check_output` for a URL: never an input, not an existing object without
    `force`, not a folder, in a bucket that exists (and that the credentials may read)."""
    for item in inputs:
        if same(url, os.fspath(item)):
            raise OutputError(f"{url}: is also an input; refusing to overwrite it")
    fs, path = filesystem(url)
    with translated(url):
        fs.invalidate_cache()
        if fs.isdir(path):
            raise OutputError(f"{url}: is a folder (prefix); give a tarball name")
        if fs.exists(path) and not force:
            raise OutputError(f"{url}: already exists (use --force to overwrite)")
        _check_bucket(fs, url, path)


class RemoteFile:
    """The object a local spool file becomes: sent to its key on `commit`, or first under a
    temporary key beside it (`stage`) that commit moves into place; `abort` deletes what was
    sent. (An object appears whole or not at all: a failed upload is aborted by the backend.)
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.fs, self.path = filesystem(url)
        folder, _, name = self.path.rpartition("/")
        self.temporary = f"{folder}/.{name}.{secrets.token_hex(6)}.part"
        self.staged = False

    @staticmethod
    def spool() -> tuple[int, str]:
        """A local temporary file to write the object to: (descriptor, path)."""
        return temporary_file(spooled("mira-upload"))

    def stage(self, local: str) -> None:
        with translated(self.url):
            self.staged = True  # set first: a failed upload may still have left the key
            self.fs.put_file(local, self.temporary)

    def commit(self, local: str | None) -> None:
        """Put the object in place: move the staged key, else upload `local` to it."""
        with translated(self.url):
            if self.staged:
                self.fs.mv(self.temporary, self.path)
                self.staged = False
            else:
                assert local is not None, "nothing was staged or spooled"
                self.fs.put_file(local, self.path)

    def abort(self) -> None:
        """Delete the staged key, if any (best effort: the job has failed already)."""
        if self.staged:
            self.staged = False
            with contextlib.suppress(Exception):
                self.fs.rm(self.temporary)


def check_folder(url: str, inputs: Iterable[Any] = (), force: bool = False) -> None:
    """`StagedDirectory`'s checks for a folder (prefix) URL: it neither is nor holds an
    input; an existing one needs `force`."""
    for item in inputs:
        text = os.fspath(item)
        if same(url, text) or (is_url(text) and _normal(text).startswith(_normal(url) + "/")):
            raise OutputError(f"{url}: holds or is an input ({text}); refusing to replace it")
    fs, path = filesystem(url)
    with translated(url):
        fs.invalidate_cache()
        if fs.exists(path) and not force:
            raise OutputError(f"{url}: already exists (use --force to replace it)")
        _check_bucket(fs, url, path)


def publish_folder(local: Path, url: str) -> None:
    """Upload the files of a finished local folder under `url`, then delete the objects an
    earlier folder there had that this one lacks. A failed upload deletes the new objects
    (object storage has no rename of a folder: the files appear one by one)."""
    fs, root = filesystem(url)
    names = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    keys = [f"{root}/{name}" for name in names]
    with translated(url):
        fs.invalidate_cache()
        old = set(fs.find(root)) if fs.exists(root) else set()
        try:
            if names:
                fs.put([str(local / name) for name in names], keys)
        except BaseException:
            with contextlib.suppress(Exception):
                fs.rm(keys)
            raise
        stale = sorted(old - set(keys))
        if stale:
            fs.rm(stale)
