"""amed-opt: hardware-aware mixed-precision quantization search on Optuna.

The public names are imported lazily so that the torch-free parts (`amed_opt.samplers`,
`amed_opt.study.bits`, `amed_opt.study.spec`) can be used without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any


__version__ = "0.1.0"

_PUBLIC = {
    "BitConfig": "amed_opt.study.bits",
    "LayerBits": "amed_opt.study.bits",
    "StudySpec": "amed_opt.study.spec",
    "load_spec": "amed_opt.study.spec",
    "MetropolisHastingsSampler": "amed_opt.samplers",
    "QualityScore": "amed_opt.samplers",
    "chain_history": "amed_opt.samplers",
    "Evaluator": "amed_opt.evaluation.evaluator",
    "TrialMetrics": "amed_opt.study.metrics",
    "run_study": "amed_opt.app",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module_name = _PUBLIC.get(name)
    if module_name is None:
        raise AttributeError(f"module 'amed_opt' has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)
