"""Where and how a comparison's numbers were produced: `Provenance` and the machine.

The CPU, platform and package versions come from `amed_opt.study.provenance` (shared with every
study); this adds what only a comparison run knows: torch's threads and device, the command,
wall time and memo use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amed_opt.study.provenance import cpu_description


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where and how the numbers were produced.

    Attributes:
        command: The exact command line.
        git_commit: The repository commit (`-dirty` with local changes).
        machine: CPU count and model, torch threads and device, platform, package versions.
        wall_seconds: Wall time of this invocation.
        trials_run: Trials run by this invocation (all studies, uniform allocations included).
        memo_hits: Evaluations answered from the memo in this invocation.
        memo_misses: Evaluations measured in this invocation.
        generated: UTC time the report was written.
    """

    command: str
    git_commit: str
    machine: dict[str, Any]
    wall_seconds: float
    trials_run: int
    memo_hits: int
    memo_misses: int
    generated: str


def machine_description(device: str) -> dict[str, Any]:
    """CPU count and model, torch threads, the torch device, OS and package versions."""
    import torch

    description: dict[str, Any] = {
        **cpu_description(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        description["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return description
