#!/usr/bin/env bash
# Set up a fresh machine: the system fonts the styles use, the word list of wikipedia_confirmedit
# (wamerican) and tesseract-ocr (Debian packages; the tesseract peer, ~7 MB download) and a virtual
# environment in .venv with synthgap, its test tools and the peers extra (ddddocr + onnxruntime,
# ~160 MB installed). Safe to rerun; it skips what is done. `--test` also installs Debian's chromium,
# the headless browser of the HTML report test (`make test`).
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES="fonts-urw-base35 fonts-texgyre fonts-liberation2 fonts-freefont-ttf fonts-comic-neue fonts-humor-sans wamerican tesseract-ocr"
[ "${1:-}" = "--test" ] && SYSTEM_PACKAGES="$SYSTEM_PACKAGES chromium"
missing=""
for pkg in $SYSTEM_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing:$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

stamp=.venv/.synthgap-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/setup.sh -nt "$stamp" ]; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    # torch first and pinned: 2.13.0 is a CPU build on this machine's disk; unpinned, pip could
    # pick a multi-GB CUDA build.
    .venv/bin/python -m pip install -q "torch==2.13.0"
    .venv/bin/python -m pip install -q -e ".[dev,peers,onnx]"
    touch "$stamp"
fi
