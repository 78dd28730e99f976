"""Where outputs are built: beside their target, under a name that says whose they are.

Every output (a tarball, a render folder) is written as `.{target}.mira-{pid}-{random}.part`
in the target's folder and renamed onto the target when complete; an error, Ctrl-C, SIGTERM
or SIGHUP removes it. Only SIGKILL (or a power cut) can leave one behind, and the target
keeps its previous content meanwhile. The next run that writes into the same folder removes
the temporaries of processes that no longer exist, and puts back a folder output that was
caught between its two renames. (A process is looked up by its id on this machine: a run in
another PID namespace that writes into the same folder at the same time is not told apart.)

Missing parent folders of a target are created (like `mkdir -p`): the rule of every command.
What is sent to object storage is spooled the same way in the temporary folder (`spooled`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from mira.errors import OutputError

PathLike = str | os.PathLike[str]
#: What a temporary's name holds: the target's name, the writer's process id, the kind.
_NAME = re.compile(r"\.(?P<target>.+)\.mira-(?P<pid>\d+)-[a-z0-9_]+\.(?P<kind>part|old)")
#: Inside an `.old` folder: the previous target, while the new one is moved in.
REPLACED = "replaced"


def _prefix(target: Path) -> str:
    return f".{target.name}.mira-{os.getpid()}-"


def ensure_folder(folder: PathLike) -> None:
    """Create `folder` and its missing parents; an OutputError naming it if that fails."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = os.fspath(folder)
        raise OutputError(f"{where}: cannot create the output folder ({reason})") from None


def check_folder(target: PathLike) -> None:
    """Refuse, before any work, a target whose folder could not be created: the nearest
    existing parent must be a folder."""
    parent = os.path.dirname(os.fspath(target)) or "."
    existing = parent
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing) or "."
    if not os.path.isdir(existing):
        where = "" if existing == parent else f"cannot create folder {parent}: "
        raise OutputError(f"{os.fspath(target)}: {where}{existing} is not a folder")


def spooled(name: str) -> Path:
    """A target in the local temporary folder, for outputs built there and then uploaded:
    `temporary_file(spooled("mira-upload"))` is `/tmp/.mira-upload.mira-{pid}-{random}.part`,
    removed by the next upload's clean-up if its process was killed."""
    return Path(tempfile.gettempdir(), name)


def temporary_file(target: PathLike) -> tuple[int, str]:
    """An open descriptor and the path of a new temporary file for `target`."""
    path = Path(os.path.abspath(target))
    ensure_folder(path.parent)
    remove_stale(path.parent)
    return tempfile.mkstemp(dir=path.parent, prefix=_prefix(path), suffix=".part")


def temporary_folder(target: PathLike, kind: str = "part") -> Path:
    """A new temporary folder for `target` (kind "part": being built; "old": the previous
    target, kept until the new one is in place)."""
    path = Path(os.path.abspath(target))
    ensure_folder(path.parent)
    if kind == "part":
        remove_stale(path.parent)
    return Path(tempfile.mkdtemp(dir=path.parent, prefix=_prefix(path), suffix=f".{kind}"))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale(folder: PathLike) -> list[str]:
    """Remove the temporaries in `folder` whose process is gone; returns their names.

    A folder target found missing beside its `.old` folder is first put back."""
    removed = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return removed
    for name in names:
        match = _NAME.fullmatch(name)
        if match is None or _alive(int(match["pid"])):
            continue
        path = Path(folder, name)
        target = Path(folder, match["target"])
        if match["kind"] == "old" and not os.path.lexists(target):
            with contextlib.suppress(OSError):
                os.replace(path / REPLACED, target)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        removed.append(name)
    return removed
