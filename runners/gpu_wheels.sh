#!/usr/bin/env bash
# Fetch, on a machine with a package registry, the wheels that the lent GPU machine's image
# lacks (it has torch, lightning, transformers, pandas, timm, ... but not these), for its
# Python 3.12, into .whl/ (in .gitignore). About 37 MB: polars 1.31 is one wheel where
# polars 2 needs a 54 MB runtime, and the device tool carries at most 64 MiB a call.
#
#   bash runners/gpu_wheels.sh
# then, through the device tool, with carry [".whl"]:
#   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
#       --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site && \
#       bash runners/gpu_checks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
rm -rf .whl && mkdir .whl
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${PLATFORMS[@]}" -d .whl \
    hydra-core==1.3.8 omegaconf==2.3.1 "polars==1.31.0" open-clip-torch==3.3.0 ftfy==6.3.1 \
    wcwidth==0.9.4
# antlr4-python3-runtime (hydra's parser) is published as source only: build its wheel here.
"$PY" -m pip wheel --quiet --no-deps -w .whl antlr4-python3-runtime==4.9.3
ls -l .whl
du -sh .whl
