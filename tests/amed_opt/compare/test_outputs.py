"""`write_outputs`: the figures, a strict `comparison.json` of everything and `report.md`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from amed_opt.compare import Provenance
from amed_opt.compare import verdict
from amed_opt.compare import write_outputs
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.compare._report import render_report
from amed_opt.compare._types import Analysis
from amed_opt.study.files import json_ready


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_writes_figures_json_and_report(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance, tmp_path: Path
) -> None:
    out = tmp_path / "new" / "out"  # created
    paths = write_outputs(analysis, plan, provenance, out)
    figures = ["hypervolume", "fronts", "best_q", "allocation", "chains"]
    assert sorted(paths) == sorted(["report", "json", *figures])
    for key in figures:
        assert paths[key] == out / f"{key}.png"
        assert paths[key].read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths.values())

    document = json.loads(paths["json"].read_text())
    assert document["plan"] == {
        "label": "synthetic-r18",
        "study": json_ready(plan.spec.to_dict()),
        "samplers": ["amed", "tpe"],
        "seeds": [0],
        "n_trials": 10,
        "storage_url": plan.storage_url,
        "latency_weight": 1.0,
    }
    assert document["hypervolume_reference"] == {"accuracy": 0.0, "latency": 1.0}
    assert document["provenance"] == json_ready(provenance)
    assert document["verdict"] == verdict(analysis)
    assert document["analysis"] == json_ready(analysis)
    assert document["analysis"]["samplers"][1]["hv"]["mean"] is None  # NaN as null
    assert document["figures"] == {key: f"{key}.png" for key in figures}
    report = render_report(analysis, plan, provenance, document["figures"])
    assert paths["report"].read_text() == report


def test_no_chain_figure_without_chains(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance, tmp_path: Path
) -> None:
    studies = [dataclasses.replace(s, chains=[]) for s in analysis.studies]
    without = dataclasses.replace(analysis, studies=studies)
    paths = write_outputs(without, plan, provenance, tmp_path)
    assert "chains" not in paths and not (tmp_path / "chains.png").exists()
    assert "chains" not in json.loads(paths["json"].read_text())["figures"]
