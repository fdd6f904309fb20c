#!/bin/sh
# Optional extras installed by `make` on top of '.[dev]'. The synthetic-microdata extra (SDV)
# needs a CPU-only PyTorch: installing torch==2.13.0 first makes pip take the machine's local
# CPU wheel instead of pulling several GB of CUDA packages from the registry. The Spark extra
# (PySpark, for `linkage code --engine spark`) comes with them.
set -e
PY="$1"
: "${PY:?usage: install-extras.sh PYTHON}"
"$PY" -m pip install -q --disable-pip-version-check "torch==2.13.0"
"$PY" -m pip install -q --disable-pip-version-check -e '.[dev,synth,spark]'
