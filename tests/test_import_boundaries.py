"""Dependencies point one way: `hardware` needs neither torch nor optuna; the samplers, the bit
types and the spec need no torch. Each import runs in a fresh interpreter so that modules already
imported by other tests cannot hide a violation."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _modules_after_import(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return {line.split(".")[0] for line in result.stdout.splitlines()}


@pytest.mark.parametrize(
    ("statement", "forbidden"),
    [
        ("import hardware", {"torch", "optuna", "torchvision"}),
        ("import hardware.layer, hardware.protocol", {"torch", "optuna"}),
        ("import amed_opt.bits, amed_opt.spec", {"torch", "torchvision", "optuna"}),
        ("import amed_opt", {"torch", "torchvision"}),
        ("import amed_opt.samplers, amed_opt.storage", {"torch", "torchvision"}),
    ],
)
def test_import_pulls_in_no_forbidden_package(statement: str, forbidden: set[str]) -> None:
    loaded = _modules_after_import(statement)
    assert not loaded & forbidden, f"{statement!r} imported {sorted(loaded & forbidden)}"
