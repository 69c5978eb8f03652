"""Delete the AMED studies of a comparison, so that changed `[sampler]` settings can run.

Run: `python benchmarks/reset_amed.py --study mbv2 [--hardware scale-sim-lowmem] --seeds 2
[--first-seed 100] [--sampler greedy] [--storage URL]`

`amed_opt.compare` refuses to resume a study whose stored settings differ from the study file's
(a resumed chain must be the same chain). After retuning AMED, this removes only the studies
`<label>-amed-seed<k>` of the comparison from its storage; the baselines, the uniform
allocations and every other study stay, so the rerun's memo still reuses every accuracy measured.
`--sampler` deletes another sampler's studies instead (e.g. after a fix to a baseline).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import optuna
import sqlalchemy

from amed_opt.cli import one_line
from amed_opt.compare import plan_comparison
from amed_opt.study.naming import study_name
from amed_opt.study.spec import SamplerName


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", required=True)
    parser.add_argument("--hardware")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--storage")
    parser.add_argument("--first-seed", type=int)
    parser.add_argument("--sampler", default="amed", choices=[m.value for m in SamplerName])
    args = parser.parse_args(argv)
    args.sampler = SamplerName(args.sampler)
    plan = plan_comparison(
        args.study,
        samplers=(args.sampler,),
        seeds=args.seeds,
        hardware=args.hardware,
        storage=args.storage,
        first_seed=args.first_seed,
    )
    url = sqlalchemy.engine.make_url(plan.storage_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        print(f"nothing to delete: {plan.storage_url} does not exist")
        return 0
    try:
        summaries = optuna.get_all_study_summaries(plan.storage_url, include_best_trial=False)
        existing = {summary.study_name for summary in summaries}
        for seed in plan.seeds:
            name = study_name(plan.study_spec(args.sampler, seed))
            if name in existing:
                optuna.delete_study(study_name=name, storage=plan.storage_url)
                print(f"deleted {name} from {plan.storage_url}")
    except sqlalchemy.exc.SQLAlchemyError as error:
        print(
            f"error: cannot use storage {plan.storage_url!r}: {one_line(error)}", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
