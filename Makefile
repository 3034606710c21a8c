# Two commands set everything up on a fresh machine:
#   make run   - create .venv if missing, install, open the studio (the bundled demo project the first time)
#   make test  - same setup, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.yolo-studio-installed
CLUSTER_STAMP := $(VENV)/.yolo-studio-cluster-installed
DEMO_MODEL := resources/models/yolo11n-demo.yaml
DEMO_CUSTOM := resources/models/yolo11n-se.yaml
# On a machine without a screen: make run QT_QPA_PLATFORM=offscreen (or use xvfb-run make run).

.PHONY: setup run demo-cli test bench soak gpu-wheels gpu-check newest-ultralytics bundle bundle-smoke bench-bundle clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "YOLO Studio needs Python 3.11 or newer: run make PYTHON=python3.11 ...")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e '.[dev]'
	@touch $(STAMP)

# Opens the studio on the last project; the first time, on the bundled demo project (generated
# locally: shapes dataset, demo models with the example custom blocks, a "CPU quick" preset).
run: setup
	$(VENV)/bin/yolo-studio gui

# The model core from the command line, no window: validation and per-layer inspection.
demo-cli: setup
	$(VENV)/bin/yolo-studio check $(DEMO_MODEL)
	$(VENV)/bin/yolo-studio inspect $(DEMO_CUSTOM) --modules resources/modules --scale n --imgsz 640

# The tests also run real Ray clusters on this machine: the optional cluster extra is installed for them.
$(CLUSTER_STAMP): $(STAMP)
	$(PY) -m pip install -e '.[dev,cluster]'
	@touch $(CLUSTER_STAMP)

# pytest exits 5 when it collects no tests; that is not a failure of the suite itself. The suite runs
# in TEST_WORKERS processes (pytest-xdist), each test file in one of them.
TEST_WORKERS ?= 2
test: setup $(CLUSTER_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi; exit $$rc

bench: setup
	$(PY) benchmarks/bench_inspect.py
	$(PY) benchmarks/bench_custom_blocks.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_feedback.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_canvas.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_demo.py
	$(PY) benchmarks/bench_hydra.py
	$(PY) benchmarks/bench_startup.py

# The probe and the whole suite against the newest Ultralytics the package index has, in an environment
# of its own (build/newest-ultralytics/): what broke is in its REPORT.md. Not part of CI.
newest-ultralytics:
	tools/newest_ultralytics.sh

# 10,000 seeded random gestures on the Model Designer, checking the canvas against the document after
# each (long: chunks of 500 in their own processes); results go to docs/RELIABILITY.md.
soak: setup
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/gesture_soak.py --gestures 10000

# Wheels a bare GPU machine (Python 3.12 with PyTorch, no network) lacks to run benchmarks/gpu_check.sh:
# Ultralytics (the version installed here) and what of its needs such an image does not have.
GPU_WHEELS := .gpu-wheels
gpu-wheels: setup
	rm -rf $(GPU_WHEELS) && mkdir -p $(GPU_WHEELS)
	$(PY) -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
	  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
	  --platform any -d $(GPU_WHEELS) \
	  "ultralytics==$$($(PY) -c 'import ultralytics; print(ultralytics.__version__)')" \
	  "ultralytics-thop==$$($(PY) -c 'from importlib.metadata import version; print(version("ultralytics-thop"))')" \
	  "polars==$$($(PY) -c 'from importlib.metadata import version; print(version("polars"))')" \
	  "polars-runtime-32==$$($(PY) -c 'from importlib.metadata import version; print(version("polars-runtime-32"))')"
	@du -sh $(GPU_WHEELS)

# The GPU path in one run; on a machine without CUDA every GPU row says it was skipped.
gpu-check: setup
	benchmarks/gpu_check.sh

# The desktop bundle (PyInstaller one-folder, dist/yolo-studio/): large and slow, not part of `make test`.
bundle: setup
	$(PY) -m pip install pyinstaller
	$(VENV)/bin/pyinstaller packaging/yolo-studio.spec --noconfirm

# Runs the built bundle: demo project, inspect, a 1-epoch training, the window's first paint.
bundle-smoke:
	$(PY) packaging/smoke_test.py dist/yolo-studio/yolo-studio

# The bundle's start-up time (launch to first paint), as benchmarks/bench_startup.py measures the studio.
bench-bundle:
	$(PY) benchmarks/bench_startup.py --bundle dist/yolo-studio/yolo-studio

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
