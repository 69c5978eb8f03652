"""Writing a comparison's outputs into its folder: the figures, `comparison.json`, `report.md`.

Every file is written atomically (`amed_opt.study.files`), so an interrupted run never leaves a
half-written report. `comparison.json` holds the plan, the provenance, the verdict and the whole
`Analysis` (`json_ready`), and names the figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from amed_opt.compare._plots import plot_allocations
from amed_opt.compare._plots import plot_best_q
from amed_opt.compare._plots import plot_chains
from amed_opt.compare._plots import plot_fronts
from amed_opt.compare._plots import plot_hypervolume
from amed_opt.compare._report import render_report
from amed_opt.compare._verdict import verdict
from amed_opt.study.files import atomic_write_text
from amed_opt.study.files import json_ready
from amed_opt.study.hypervolume import REFERENCE
from amed_opt.study.urls import redact_url


if TYPE_CHECKING:
    from amed_opt.compare._plan import ComparisonPlan
    from amed_opt.compare._provenance import Provenance
    from amed_opt.compare._types import Analysis

REPORT_NAME = "report.md"
JSON_NAME = "comparison.json"
FIGURES = {
    "hypervolume": "hypervolume.png",
    "fronts": "fronts.png",
    "best_q": "best_q.png",
    "allocation": "allocation.png",
    "chains": "chains.png",
}


def write_outputs(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance, out_dir: Path
) -> dict[str, Path]:
    """Write the figures, `comparison.json` and `report.md` into `out_dir`.

    Returns:
        Output name (`report`, `json` and each figure's key) to path.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "hypervolume": plot_hypervolume(analysis, out_dir / FIGURES["hypervolume"]),
        "fronts": plot_fronts(analysis, out_dir / FIGURES["fronts"]),
        "best_q": plot_best_q(analysis, out_dir / FIGURES["best_q"]),
        "allocation": plot_allocations(analysis, out_dir / FIGURES["allocation"]),
    }
    if any(s.chains for s in analysis.studies):
        paths["chains"] = plot_chains(analysis, out_dir / FIGURES["chains"])
    figures = {key: path.name for key, path in paths.items()}

    document = {
        "plan": {
            "label": plan.label,
            "study": plan.spec.to_dict(),
            "samplers": [s.value for s in plan.samplers],
            "seeds": list(plan.seeds),
            "n_trials": plan.n_trials,
            "storage_url": redact_url(plan.storage_url),
            "latency_weight": plan.latency_weight,
        },
        "hypervolume_reference": {"accuracy": REFERENCE.accuracy, "latency": REFERENCE.latency},
        "provenance": json_ready(provenance),
        "verdict": verdict(analysis),
        "analysis": json_ready(analysis),
        "figures": figures,
    }
    json_path = out_dir / JSON_NAME
    atomic_write_text(json_path, json.dumps(document, indent=1, allow_nan=False) + "\n")
    report_path = out_dir / REPORT_NAME
    atomic_write_text(report_path, render_report(analysis, plan, provenance, figures))
    return {"report": report_path, "json": json_path, **paths}
