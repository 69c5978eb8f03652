"""`benchmarks/reachable_front.py`: each sampler against the best front the synthetic model
allows."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from amed_opt.app.components import RunOptions
from amed_opt.app.components import build_components
from amed_opt.compare import Provenance
from amed_opt.compare import write_outputs
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.compare._types import Analysis
from amed_opt.compare._types import Point
from amed_opt.evaluation.synthetic import SyntheticEvaluator
from amed_opt.evaluation.synthetic_front import Reach
from amed_opt.evaluation.synthetic_front import reachable_front
from amed_opt.study.spec import AccuracyModel
from amed_opt.study.spec_overrides import with_overrides


def test_sets_each_sampler_against_the_reachable_front(
    analysis: Analysis,
    plan: ComparisonPlan,
    provenance: Provenance,
    tmp_path: Path,
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    # eyeriss: a cheaper allocation dominates uniform 3 and 4 bits beyond the noise there
    spec = with_overrides(plan.spec, hardware="eyeriss")
    plan = dataclasses.replace(plan, spec=spec)
    cache = tmp_path / "cache"
    components = build_components(spec, RunOptions(cache_dir=cache, progress=False))
    assert isinstance(components.evaluator, SyntheticEvaluator)
    front = reachable_front(components.evaluator, components.space)
    reference = components.reference_latency_ms
    reachable_hv = front.hypervolume(reference)
    uniform_hv = reachable_hv - 0.2
    dominator = front.uniform_reach(4).best
    assert dominator is not None and front.uniform_reach(4).reach is Reach.CERTAIN
    points = [
        Point(1, 0.9, 1.0, 1.0, components.space.uniform_bits(8).compact()),  # not counted
        Point(2, dominator.accuracy, dominator.latency_ms, 0.5, dominator.bits.compact()),
    ]
    study = dataclasses.replace(analysis.studies[0], front=points)
    amed = dataclasses.replace(analysis.samplers[0], hv=dataclasses.replace(
        analysis.samplers[0].hv, mean=uniform_hv + 0.05))  # fmt: skip
    analysis = dataclasses.replace(
        analysis, samplers=[amed], studies=[study], uniform_hv=uniform_hv
    )
    source = write_outputs(analysis, plan, provenance, tmp_path / "out")["json"]
    out = tmp_path / "reachable.md"

    code = load_benchmark("reachable_front").main(
        [str(source), "--out", str(out), "--cache-dir", str(cache)]
    )

    assert code == 0
    lines = out.read_text().splitlines()
    row = next(line for line in lines if line.startswith("| synthetic-r18 / eyeriss | 0."))
    assert f"| {reachable_hv:.4f} | {uniform_hv:.4f} |" in row
    assert f"{front.best_q(1.0, reference)[0]:.4f}" in row
    assert "amed" in row and "(25%)" in row  # 0.05 of the 0.2 the ladder left open
    assert row.endswith(f" | {len(front)} |")
    reaches = next(
        line for line in lines if line.startswith("| synthetic-r18 / eyeriss | certain")
    ).split(" | ")[1:]
    assert len(reaches) == 6
    for bits, cell in zip(range(3, 9), reaches, strict=True):
        found = front.uniform_reach(bits)
        assert cell.startswith(f"{found.reach.value} ({found.margin:+.4f})")
    # the analysis says AMED dominated uniform 8 bits in all of its seeds
    assert reaches[-1].rstrip(" |").endswith(": amed")
    # beyond the noise: what the mixed point dominates whatever its noise (4 bits at least)
    firm = [b for b in range(3, 9) if front.dominates_beyond_noise(dominator.bits, b)]
    assert 4 in firm
    assert lines[-1] == f"| synthetic-r18 / eyeriss | {', '.join(map(str, firm))} |"


def test_a_measured_study_or_a_missing_file_is_one_line_and_exit_code_2(
    analysis: Analysis,
    plan: ComparisonPlan,
    provenance: Provenance,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    main = load_benchmark("reachable_front").main
    assert main([str(tmp_path / "none.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.json" in err

    source = write_outputs(analysis, plan, provenance, tmp_path / "out")["json"]
    document = json.loads(source.read_text())
    study = document["plan"]["study"]
    for change, message in [
        (("evaluator", "accuracy_model", AccuracyModel.MEASURED.value), "measured"),
        (("search", "max_size_kib", 100.0), "size limit"),
    ]:
        section, key, value = change
        edited = json.loads(json.dumps(study))
        edited[section][key] = value
        source.write_text(json.dumps({**document, "plan": {**document["plan"], "study": edited}}))
        assert main([str(source), "--cache-dir", str(tmp_path / "cache")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and re.search(message, err)
        assert not (tmp_path / "cache").exists()  # refused before building anything
