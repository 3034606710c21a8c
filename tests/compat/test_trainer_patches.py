"""The trainer changes the training process makes (compat/training.py)."""

import pytest


def test_the_amp_check_never_downloads_weights_offline():
    """On an accelerator without yolo26n.pt the check keeps AMP on instead of downloading (no GPU needed)."""
    import torch
    from ultralytics.engine import trainer

    from yolo_studio.compat.training import keep_amp_offline

    keep_amp_offline()
    keep_amp_offline()  # idempotent: wraps the original once
    on_accelerator = torch.nn.Linear(2, 2, device="meta")
    assert trainer.check_amp(on_accelerator) is True  # the network guard fails the test on any attempt
    assert trainer.check_amp(torch.nn.Linear(2, 2)) is False  # CPU: Ultralytics' own answer


class _OnCuda:
    """A model whose weights say they are on cuda:0 (all the AMP check reads of it before loading its own)."""

    def parameters(self):
        import torch

        yield type("Weight", (), {"device": torch.device("cuda", 0)})()


@pytest.mark.parametrize("gpu, amp", [("NVIDIA GeForce GTX 1660 SUPER", False), ("NVIDIA T1000 8GB", False),
                                      ("Tesla K40m", False), ("NVIDIA GeForce RTX 4090", True), ("NVIDIA H200", True)])
def test_offline_amp_keeps_ultralytics_decision_for_gpus_that_fail_with_amp(gpu, amp, monkeypatch):
    """A faked device name: GPUs Ultralytics turns AMP off for stay off; the others skip the download."""
    import torch
    from ultralytics.engine import trainer

    from yolo_studio.compat.training import keep_amp_offline

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *_: gpu)
    keep_amp_offline()
    assert trainer.check_amp(_OnCuda()) is amp
