"""Small programs the benchmark times with our venv's Python (not commands of the CLI).

python tests/benchmarks/helpers.py stream IN.tar OUT.tar    load + iterate + save, streamed
python tests/benchmarks/helpers.py memory IN.tar OUT.tar    SceneCollection.load(...).save(...)
python tests/benchmarks/helpers.py decode DIR               floor: decode every JPEG in DIR
python tests/benchmarks/helpers.py opencv-tiles DIR OUT SIZE OVERLAP QUALITY
                            grid tiles of every JPEG in DIR, written as JPEG by OpenCV
python tests/benchmarks/helpers.py count-decodes ARGS...    run `mira ARGS...` in this
                            process and print how many images cv2 decoded (to stderr)
"""

from __future__ import annotations

import sys
from pathlib import Path


def stream(source: str, target: str) -> None:
    """The library's streaming twin of load + save: one scene in memory at a time."""
    from mira.formats import SceneWriter, iter_scenes

    with SceneWriter(target, force=True, inputs=[source]) as writer:
        for scene in iter_scenes(source):
            writer.write(scene)


def memory(source: str, target: str) -> None:
    """The original's API: the whole collection (encoded images) in memory, then saved."""
    from mira.core import SceneCollection

    SceneCollection.load(source).save(target, force=True)


def decode(folder: str) -> None:
    """The pixel floor: decode every JPEG of the dataset with OpenCV in one process."""
    import cv2

    cv2.setNumThreads(1)
    for path in sorted(Path(folder).glob("*.jpg")):
        if cv2.imread(str(path), cv2.IMREAD_COLOR) is None:
            raise SystemExit(f"cannot decode {path}")


def opencv_tiles(folder: str, out: str, size: str, overlap: str, quality: str) -> None:
    """The plainest tiler: mira's grid windows cut and written by OpenCV, one thread."""
    import cv2

    from mira.ops.tiling import grid_windows

    cv2.setNumThreads(1)
    Path(out).mkdir(exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    for path in sorted(Path(folder).glob("*.jpg")):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        height, width = image.shape[:2]
        for x1, y1, x2, y2 in grid_windows(width, height, int(size), float(overlap)):
            ok, data = cv2.imencode(".jpg", image[y1:y2, x1:x2], params)
            if not ok:
                raise SystemExit(f"cannot encode a tile of {path}")
            (Path(out) / f"{path.stem}_{x1}_{y1}.jpg").write_bytes(data.tobytes())


def count_decodes(args: list[str]) -> None:
    """Run the CLI in-process with cv2's decoders wrapped, and report how often they ran."""
    import cv2

    calls = {"count": 0}

    def counting(original):  # type: ignore[no-untyped-def]
        def wrapper(*a, **kw):  # type: ignore[no-untyped-def]
            calls["count"] += 1
            return original(*a, **kw)

        return wrapper

    cv2.imdecode = counting(cv2.imdecode)
    cv2.imread = counting(cv2.imread)
    from mira_cli.app import main

    sys.argv = ["mira", *args]
    try:
        main()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        sys.stderr.write(f"decoded-images: {calls['count']}\n")


if __name__ == "__main__":
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "stream":
        stream(*rest)
    elif command == "memory":
        memory(*rest)
    elif command == "decode":
        decode(*rest)
    elif command == "opencv-tiles":
        opencv_tiles(*rest)
    elif command == "count-decodes":
        count_decodes(rest)
    else:
        raise SystemExit(__doc__)
