#!/usr/bin/env bash
# The GPU path in one run (benchmarks/gpu_check.py): prints one Markdown table; exits 1 if a check fails.
# On a machine whose Python lacks Ultralytics, the wheels `make gpu-wheels` put in .gpu-wheels/ are
# installed first (into a folder of their own, never over the system's packages).
#
#   benchmarks/gpu_check.sh [--out TABLE.md] [--keep WORKDIR] [--rehearse] [--deadline SECONDS]
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if ! "$PY" -c "import ultralytics" 2>/dev/null; then
  if ! ls .gpu-wheels/*.whl >/dev/null 2>&1; then
    echo "Ultralytics is not installed for $PY and .gpu-wheels/ is empty: run make gpu-wheels first" >&2
    exit 2
  fi
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/gpu-check-site \
    .gpu-wheels/*.whl || exit 2
  export PYTHONPATH=/tmp/gpu-check-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
exec "$PY" benchmarks/gpu_check.py "$@"
