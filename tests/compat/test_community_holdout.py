"""The held-out community cases, built by the Model Designer's loader as their patched repositories build them,
at their smallest and largest scales. In a file of their own so that the suite's processes share the corpus
(about three minutes each half, instead of one file of five and a half)."""

import pytest

from test_community_corpus import HOLDOUT, _case_folder, _reference, _smallest_and_largest, _studio, reference


@pytest.mark.parametrize("case_id", HOLDOUT)
def test_the_model_designer_loader_builds_each_held_out_case_as_its_repository_does(case_id, tmp_path):
    case = reference.load_case(case_id)
    folder = _case_folder(case_id, tmp_path)
    for scale in _smallest_and_largest(reference.scales_of(case["model"])):
        assert _studio(folder, case["model"], scale) == _reference(case_id, scale), f"scale {scale}"
