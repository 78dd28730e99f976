#!/usr/bin/env bash
# Create throwaway venvs holding the ORIGINAL mira library, used only to make the
# legacy fixtures (tools/make_legacy_fixtures.py), to check that the original reads what
# our legacy writer produces (tests/formats/test_tar_legacy.py) and for the differential
# tests of the original's API (tests/compat/).
#
#   .venv-mira-0.9.36  current layout (N.png + protobuf N)
#   .venv-mira-0.9.26  old layout (protobuf N with the image inside, R/B swapped)
#
# Both are gitignored; neither is needed by the normal test run (tests skip).
# The original needs Python <3.12 and declares neither OpenCV nor (for 0.9.26)
# several of its imports, so they are installed explicitly.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3.10 python3.9 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then
            PYTHON="$candidate"
            break
        fi
    done
fi
"$PYTHON" -c 'import sys; assert (3, 8) <= sys.version_info[:2] < (3, 12), sys.version' \
    || { echo "error: the original mira needs Python >=3.8,<3.12 (set PYTHON=...)" >&2; exit 1; }

make_venv() {
    local dir="$1" probe="$2"
    shift 2
    # Run import checks from / so the repo's own mira/ package does not shadow the original.
    if [ -x "$dir/bin/python" ] && (cd / && "$dir/bin/python" -c "$probe") 2>/dev/null; then
        echo "$dir: already present"
        return
    fi
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --upgrade pip
    "$dir/bin/python" -m pip install --quiet "$@"
    (cd / && "$dir/bin/python" -c "$probe; import mira.core; print('ok:', mira.core.__file__)")
}

# 0.9.36 also gets scikit-image (and so scipy): its augmentations and experimental modules
# import them without declaring them; the differential tests in tests/compat call both.
make_venv "$ROOT/.venv-mira-0.9.36" "import mira.core.augmentations, mira.core.experimental" \
    "mira==0.9.36" typing_extensions opencv-python-headless scikit-image
make_venv "$ROOT/.venv-mira-0.9.26" "import mira.core" "mira==0.9.26" "numpy<2" \
    opencv-python-headless requests scikit-image scikit-learn qsl
