#!/usr/bin/env bash
# The test suite against the newest Ultralytics the package index has, in an environment of its own,
# and a report of what broke. Independent of CI: run it before widening the ultralytics pin.
#
#   tools/newest_ultralytics.sh [OUT_DIR] [pytest arguments...]
#
# OUT_DIR (default build/newest-ultralytics) gets venv/, junit.xml, probe.txt, test.log and REPORT.md.
# ULTRALYTICS=8.3.253 tries that release instead of the newest.
# Exit code: 0 when the probe and every test pass, 1 when something broke, 2 when it could not run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/newest-ultralytics}
shift || true
PYTHON=${PYTHON:-python3}
VENV="$OUT/venv"
mkdir -p "$OUT"

test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV" || exit 2
"$VENV/bin/python" -m pip install -q -e "$ROOT[dev]" || exit 2
NEWEST=${ULTRALYTICS:-$("$VENV/bin/python" -m pip index versions ultralytics 2>/dev/null | sed -n 's/^ultralytics (\(.*\))$/\1/p')}
if [ -z "$NEWEST" ]; then
    echo "the package index lists no ultralytics release" >&2
    exit 2
fi
# Past the studio's own pin on purpose: pip says so, and the report says what that costs.
"$VENV/bin/python" -m pip install -q "ultralytics==$NEWEST" 2>"$OUT/pip.txt" || exit 2
INSTALLED=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("ultralytics"))')

"$VENV/bin/yolo-studio" probe >"$OUT/probe.txt" 2>&1
PROBE=$?
(cd "$ROOT" && QT_QPA_PLATFORM=offscreen "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    --junitxml="$OUT/junit.xml" "$@") >"$OUT/test.log" 2>&1
TESTS=$?
[ "$TESTS" -eq 5 ] && TESTS=0  # no tests collected (a narrowed run): nothing broke

"$VENV/bin/python" - "$OUT" "$INSTALLED" "$PROBE" "$TESTS" <<'PY'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

out, version, probe_rc, tests_rc = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lines = [f"# YOLO Studio against Ultralytics {version}", ""]
probe = (out / "probe.txt").read_text().strip()
lines += ["## Start-up probe", "", "passed" if probe_rc == 0 else "failed:", ""]
lines += [f"    {line}" for line in probe.splitlines()] + [""]
broken, total = [], 0
junit = out / "junit.xml"
if junit.exists():
    for case in ET.parse(junit).iter("testcase"):
        total += 1
        problem = case.find("failure")
        problem = problem if problem is not None else case.find("error")
        if problem is not None:
            first = (problem.get("message") or problem.text or "").strip().splitlines()
            broken.append(f"- `{case.get('classname')}::{case.get('name')}`: {first[0] if first else '?'}")
lines += ["## Test suite", "", f"{len(broken)} of {total} tests broke." if total else "no test ran (see test.log).", ""]
lines += broken
(out / "REPORT.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines[:12]))
PY
[ "$PROBE" -eq 0 ] && [ "$TESTS" -eq 0 ]
