#!/usr/bin/env python3
"""Build the bundled sample QSL project in `sample/` (run once; the output is committed).

It is the synthetic generator's output plus what real projects contain and the generator
does not make: image-level labels, an RLE mask, an ignored item and an unlabelled item.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample"


def main() -> None:
    if SAMPLE.exists():
        shutil.rmtree(SAMPLE)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "make_dataset.py"),
            "--n",
            "16",
            "--out",
            str(SAMPLE),
            "--size",
            "400x300",
            "--quality",
            "80",
        ],
        check=True,
    )
    project_path = SAMPLE / "project.json"
    project = json.loads(project_path.read_text())
    project["config"]["image"] = [
        {"name": "weather", "multiple": False, "options": [{"name": "sunny"}, {"name": "cloudy"}]}
    ]
    items = project["items"]
    for i, item in enumerate(items):
        item["labels"]["image"] = {"weather": ["sunny" if i % 3 else "cloudy"]}
    # A 40x30 mask canvas (the image is 400x300): a 10x6 block → a 100x60 polygon.
    counts, on = [], [(y, x) for y in range(30) for x in range(40) if 2 <= y < 8 and 4 <= x < 14]
    run, state, flat = 0, True, [(y * 40 + x) for y, x in on]
    pixels = [p in set(flat) for p in range(40 * 30)]
    for value in pixels:
        if value == state:
            run += 1
        else:
            counts.append(run)
            run, state = 1, value
    counts.append(run)
    items[0]["labels"]["masks"] = [
        {
            "map": {"counts": counts, "dimensions": {"width": 40, "height": 30}},
            "labels": {"category": ["rect"]},
        }
    ]
    items[14]["ignore"] = True
    del items[15]["labels"]
    project_path.write_text(json.dumps(project, indent=1) + "\n")


if __name__ == "__main__":
    main()
