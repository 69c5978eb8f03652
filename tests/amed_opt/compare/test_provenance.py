"""The machine a comparison ran on, as its report and JSON record it."""

from __future__ import annotations

import torch

from amed_opt.compare._provenance import machine_description
from amed_opt.study.provenance import cpu_description


def test_machine_adds_torch_threads_and_device_to_the_cpu_description() -> None:
    machine = machine_description("cpu")
    assert machine == {
        **cpu_description(),
        "torch_threads": torch.get_num_threads(),
        "device": "cpu",
    }
    assert "gpu" not in machine
