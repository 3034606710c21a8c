"""Values written in flow style read back identically through PyYAML (Ultralytics' reader)."""

import math

from hypothesis import given
from hypothesis import strategies as st

from yolo_studio.core.model.yaml_text import flow, safe_load

scalars = (st.none() | st.booleans() | st.integers(-10**9, 10**9)
           | st.floats(allow_nan=False, width=64) | st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=12)


@given(values)
def test_flow_round_trips_through_pyyaml(value):
    assert safe_load(flow(value)) == value


def test_ultralytics_spellings():
    assert flow([-1, 1, "nn.Upsample", ["None", 2, "nearest"]]) == "[-1, 1, nn.Upsample, [None, 2, nearest]]"
    assert flow([[16, 19, 22], 1, "Detect", ["nc"]]) == "[[16, 19, 22], 1, Detect, [nc]]"
    assert flow(1e-05) == "1.0e-05" and safe_load(flow(1e-05)) == 1e-05
    assert flow("yes") == '"yes"'  # YAML 1.1 would read a bare yes as True
    assert math.isinf(safe_load(flow(float("inf"))))
