#!/usr/bin/env bash
# Make .venv in the checkout and install the verified stack into it.
# Idempotent: a second run only checks what is there (a few seconds).
#   bash tools/setup_env.sh            # python packages
#   bash tools/setup_env.sh --data     # also Fashion-MNIST (apt) unpacked
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
stamp="$VENV/.cgankd-installed"
want=$(cat requirements/*.txt setup.py | sha256sum | cut -c1-16)

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    pip="$VENV/bin/python -m pip install -q --disable-pip-version-check"
    # torch first: pip takes both from the local wheel cache.
    $pip -r requirements/torch.txt
    $pip -r requirements/runtime.txt -r requirements/tests.txt
    # --no-deps: their dependency lists pull the source package mmcv.
    $pip --no-deps -r requirements/openmmlab.txt
    $pip --no-deps --no-build-isolation -e .
    echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--data" ]; then
    src=/usr/share/datasets/fashion-mnist
    dst=data/fashion_mnist
    if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
        else
            sudo apt-get update -qq
            sudo apt-get install -y -qq dataset-fashion-mnist
        fi
    fi
    mkdir -p "$dst"
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte \
             t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        if [ ! -f "$dst/$f" ]; then
            gunzip -c "$src/$f.gz" > "$dst/$f.part" && mv "$dst/$f.part" "$dst/$f"
        fi
    done
fi
