"""Label lines: every value must be a number in range; NaN and infinities are refused with their field named."""

import pytest

from yolo_studio.core.data.yolo_labels import check_line, parse_line


@pytest.mark.parametrize("line", ["0 nan 0.5 0.1 0.1", "nan 0.5 0.5 0.1 0.1", "0 0.5 0.5 inf 0.1",
                                  "0 0.5 0.5 0.1 -inf", "0 0.5 0.5 0.1 NaN"])
def test_a_label_with_nan_or_an_infinity_is_malformed_and_says_which_field(line):
    kind, message = check_line(parse_line(line), line, "detect", 3)
    assert kind == "malformed"
    odd = next(f for f in line.split() if f.lower().lstrip("-") in ("nan", "inf"))
    assert f"'{odd}' is not a finite number" in message


def test_a_good_line_passes():
    assert check_line(parse_line("0 0.5 0.5 0.1 0.1"), "0 0.5 0.5 0.1 0.1", "detect", 3) is None
