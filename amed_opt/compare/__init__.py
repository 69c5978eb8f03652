"""Sampler comparison: AMED against TPE, NSGA-II and random search, with a report and plots.

`python -m amed_opt.compare --study r18` runs every (sampler, seed) as its own study in one
storage (resumable: the same command continues), measures the uniform allocations the same way,
and writes `report.md`, `comparison.json` and PNG figures (see `docs/compare.md`). The pieces:

- `plan_comparison` validates the settings into a `ComparisonPlan`;
- `run_comparison` runs or resumes the studies (sharing, and memoising, a `fresh` evaluator);
- `analyse_comparison` reads everything back into an `Analysis` (no torch needed);
- `write_outputs` draws the figures and writes the report and the JSON.
"""

from amed_opt.compare._analysis import Analysis
from amed_opt.compare._analysis import analyse_comparison
from amed_opt.compare._memo import MemoizedEvaluator
from amed_opt.compare._outputs import write_outputs
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.compare._plan import parse_samplers
from amed_opt.compare._plan import plan_comparison
from amed_opt.compare._provenance import Provenance
from amed_opt.compare._run import ComparisonRun
from amed_opt.compare._run import run_comparison
from amed_opt.compare._verdict import verdict
from amed_opt.study.files import json_ready


__all__ = [
    "Analysis",
    "ComparisonPlan",
    "ComparisonRun",
    "MemoizedEvaluator",
    "Provenance",
    "analyse_comparison",
    "json_ready",
    "parse_samplers",
    "plan_comparison",
    "run_comparison",
    "verdict",
    "write_outputs",
]
