"""How much time a sampler itself takes per trial as a study grows.

Run: `python benchmarks/sampler_overhead.py [--sizes 100 1000 10000] [--measure 10]
[--storages inmemory sqlite] [--samplers amed tpe nsga2] [--params 20]`

For each storage (in-memory; SQLite in WAL mode through
`amed_opt.study.storage.sqlite_wal_storage`)
and each study size N, every sampler continues a study that already holds N finished trials:
after one unmeasured warm-up trial, it runs `--measure` trials of a trivial two-objective
objective (accuracy up, latency down over `--params` bit-width parameters). The time spent inside
the sampler's methods (`before_trial`, `infer_relative_search_space`, `sample_relative`,
`sample_independent`, `after_trial`), storage calls included, is summed and divided by the
number of measured trials. The objective and Optuna's own bookkeeping are not counted.

The N-trial history is one run of `MetropolisHastingsSampler` (so that the AMED chain really is
N steps long), copied into a fresh study for each sampler. Its trials also carry NSGA-II's
generation attribute (generations of `--population` trials), so that NSGA-II continues a
history shaped like its own; TPE only needs finished trials.

Samplers, with their arguments pinned: `MetropolisHastingsSampler` (one chain, QualityScore,
T = 0.01, seed 0); `TPESampler(seed=0, multivariate=False, constant_liar=False)`;
`NSGAIISampler(seed=0, population_size=--population)`.

Goal (issue #3): ours at 10,000 trials within 2x of ours at 100 trials.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.samplers import BaseSampler
from optuna.storages import InMemoryStorage
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from amed_opt.samplers import ChainSettings
from amed_opt.samplers import FixedStart
from amed_opt.samplers import MetropolisHastingsSampler
from amed_opt.samplers import QualityScore
from amed_opt.study.storage import sqlite_wal_storage


BITS = (2, 3, 4, 5, 6, 7, 8)
GOAL_RATIO = 2.0
STUDY_NAME = "overhead"
NSGA_GENERATION_KEY = "NSGAIISampler:generation"
SAMPLER_METHODS = (
    "before_trial",
    "infer_relative_search_space",
    "sample_relative",
    "sample_independent",
    "after_trial",
)


def search_space(n_params: int) -> dict[str, BaseDistribution]:
    return {f"{i:02d}.layer{i}.conv": CategoricalDistribution(BITS) for i in range(n_params)}


def make_objective(
    space: dict[str, BaseDistribution],
) -> Callable[[optuna.Trial], tuple[float, float]]:
    names = list(space)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        bits = [trial.suggest_categorical(name, BITS) for name in names]
        accuracy = 0.95 - sum((8 - b) ** 2 for b in bits) / (50.0 * len(bits))
        latency_ms = sum(b * (1 + i % 4) for i, b in enumerate(bits)) / 10.0
        return accuracy, latency_ms

    return objective


def latency_8bit(n_params: int) -> float:
    return sum(8 * (1 + i % 4) for i in range(n_params)) / 10.0


def amed_chains(n_params: int) -> ChainSettings:
    """One chain, QualityScore with latency weight 1, T = 0.01."""
    score = QualityScore(latency_reference=latency_8bit(n_params), latency_weight=1.0)
    return ChainSettings(score=score, temperature=0.01)


def make_sampler(name: str, space: dict[str, BaseDistribution], population: int) -> BaseSampler:
    if name == "amed":
        return MetropolisHastingsSampler(
            search_space=space,
            chains=amed_chains(len(space)),
            start=FixedStart(dict.fromkeys(space, 8)),
            seed=0,
        )
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=0, multivariate=False, constant_liar=False)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=0, population_size=population)
    raise ValueError(f"unknown sampler {name!r}; choose from amed, tpe, nsga2")


class _HistorySampler(MetropolisHastingsSampler):
    """Builds the shared history: the AMED chain, with NSGA-II's generation attribute added."""

    def __init__(self, population: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._population = population

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        super().after_trial(study, trial, state, values)
        study._storage.set_trial_system_attr(
            trial._trial_id, NSGA_GENERATION_KEY, trial.number // self._population
        )


class _Stopwatch:
    """Wraps a sampler's methods and sums the time spent inside them."""

    def __init__(self, sampler: BaseSampler) -> None:
        self.seconds = 0.0
        self.enabled = False
        for method_name in SAMPLER_METHODS:
            setattr(sampler, method_name, self._timed(getattr(sampler, method_name)))

    def _timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                if self.enabled:
                    self.seconds += time.perf_counter() - start

        return timed


def measure(study: optuna.Study, objective: Callable[..., Any], n_trials: int) -> float:
    """Sampler seconds per trial over `n_trials`, after one warm-up trial."""
    stopwatch = _Stopwatch(study.sampler)
    study.optimize(objective, n_trials=1)
    stopwatch.enabled = True
    study.optimize(objective, n_trials=n_trials)
    return stopwatch.seconds / n_trials


def bulk_insert_trials(
    storage: optuna.storages.RDBStorage, study_id: int, trials: Sequence[FrozenTrial]
) -> None:
    """Append finished trials to an RDB study in one transaction.

    `Study.add_trials` commits trial by trial through the ORM (about 0.1 s per 20-parameter
    trial on this machine), too slow for a 10,000-trial history; this writes the same rows
    through Optuna's own table definitions with one executemany per table.
    """
    tables = {
        "trials": models.TrialModel.__table__,
        "params": models.TrialParamModel.__table__,
        "values": models.TrialValueModel.__table__,
        "user": models.TrialUserAttributeModel.__table__,
        "system": models.TrialSystemAttributeModel.__table__,
    }
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
    with storage.engine.begin() as connection:
        first_id = connection.execute(
            sqlalchemy.select(sqlalchemy.func.max(tables["trials"].c.trial_id))
        ).scalar()
        for offset, trial in enumerate(trials):
            trial_id = (first_id or 0) + 1 + offset
            utc = datetime.UTC
            rows["trials"].append(
                {
                    "trial_id": trial_id,
                    "number": trial.number,
                    "study_id": study_id,
                    "state": trial.state,
                    "datetime_start": trial.datetime_start.astimezone(utc).replace(tzinfo=None)
                    if trial.datetime_start
                    else None,
                    "datetime_complete": trial.datetime_complete.astimezone(utc).replace(
                        tzinfo=None
                    )
                    if trial.datetime_complete
                    else None,
                }
            )
            for name, value in trial.params.items():
                distribution = trial.distributions[name]
                rows["params"].append(
                    {
                        "trial_id": trial_id,
                        "param_name": name,
                        "param_value": distribution.to_internal_repr(value),
                        "distribution_json": optuna.distributions.distribution_to_json(
                            distribution
                        ),
                    }
                )
            for objective, value in enumerate(trial.values or []):
                stored, value_type = models.TrialValueModel.value_to_stored_repr(value)
                rows["values"].append(
                    {
                        "trial_id": trial_id,
                        "objective": objective,
                        "value": stored,
                        "value_type": value_type,
                    }
                )
            for kind, attrs in (("user", trial.user_attrs), ("system", trial.system_attrs)):
                for key, value in attrs.items():
                    rows[kind].append(
                        {"trial_id": trial_id, "key": key, "value_json": json.dumps(value)}
                    )
        for name, table in tables.items():
            if rows[name]:
                connection.execute(table.insert(), rows[name])


def copy_sqlite(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def run(args: argparse.Namespace) -> dict[tuple[str, str, int], float]:
    space = search_space(args.params)
    objective = make_objective(space)
    directions: list[optuna.study.StudyDirection] = [
        optuna.study.StudyDirection.MAXIMIZE,
        optuna.study.StudyDirection.MINIMIZE,
    ]
    history_sampler = _HistorySampler(
        args.population,
        search_space=space,
        chains=amed_chains(args.params),
        start=FixedStart(dict.fromkeys(space, 8)),
        seed=0,
    )
    history = optuna.create_study(
        study_name=STUDY_NAME, directions=directions, sampler=history_sampler
    )
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="sampler_overhead_"))
    template_db = workdir / "history.db"
    template_db.unlink(missing_ok=True)
    template: optuna.Study | None = None
    if "sqlite" in args.storages:
        template_storage = sqlite_wal_storage(f"sqlite:///{template_db}")
        template = optuna.create_study(
            study_name=STUDY_NAME, directions=directions, storage=template_storage
        )

    results: dict[tuple[str, str, int], float] = {}
    copied = 0  # Trials of `history` already in the SQLite template.
    for size in sorted(args.sizes):
        started = time.perf_counter()
        history.optimize(objective, n_trials=size - len(history.trials))
        attrs = history._storage.get_study_system_attrs(history._study_id)
        if template is not None:
            bulk_insert_trials(template_storage, template._study_id, history.trials[copied:])
            copied = len(history.trials)
            for key, value in attrs.items():
                template._storage.set_study_system_attr(template._study_id, key, value)
        print(f"# history of {size} trials built in {time.perf_counter() - started:.1f} s")

        for storage_kind in args.storages:
            for sampler_name in args.samplers:
                sampler = make_sampler(sampler_name, space, args.population)
                if storage_kind == "inmemory":
                    storage: Any = InMemoryStorage()
                    optuna.copy_study(
                        from_study_name=STUDY_NAME,
                        from_storage=history._storage,
                        to_storage=storage,
                    )
                else:
                    database = workdir / f"{sampler_name}.db"
                    copy_sqlite(template_db, database)
                    storage = sqlite_wal_storage(f"sqlite:///{database}")
                study = optuna.load_study(study_name=STUDY_NAME, storage=storage, sampler=sampler)
                seconds = measure(study, objective, args.measure)
                if sampler_name == "amed":
                    # The chain went on from the copied history rather than starting over.
                    last = study._storage.get_trial(study.trials[-1]._trial_id)
                    assert last.system_attrs["mh:proposal"]["step"] == size + args.measure
                results[(storage_kind, sampler_name, size)] = seconds
                print(
                    f"# {storage_kind:8s} {sampler_name:6s} N={size:<6d} "
                    f"{seconds * 1e3:9.2f} ms/trial"
                )
    return results


def print_table(
    results: dict[tuple[str, str, int], float], args: argparse.Namespace
) -> list[float]:
    sizes = sorted(args.sizes)
    header = ["storage", "sampler"] + [f"N={size}" for size in sizes]
    header.append(f"N={sizes[-1]} / N={sizes[0]}")
    rows = []
    ratios = []
    for storage_kind in args.storages:
        for sampler_name in args.samplers:
            times = [results[(storage_kind, sampler_name, size)] for size in sizes]
            ratio = times[-1] / times[0]
            if sampler_name == "amed":
                ratios.append(ratio)
            cells = [f"{t * 1e3:.2f} ms" for t in times]
            rows.append([storage_kind, sampler_name, *cells, f"{ratio:.2f}x"])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print()
    print(
        f"Sampler time per trial ({args.params} parameters, 2 objectives, "
        f"mean of {args.measure} trials after 1 warm-up):"
    )
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    return ratios


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--measure", type=int, default=10, help="measured trials per point")
    parser.add_argument("--params", type=int, default=20)
    parser.add_argument("--population", type=int, default=50, help="NSGA-II population size")
    parser.add_argument(
        "--storages", nargs="+", default=["inmemory", "sqlite"], choices=["inmemory", "sqlite"]
    )
    parser.add_argument(
        "--samplers", nargs="+", default=["amed", "tpe", "nsga2"], choices=["amed", "tpe", "nsga2"]
    )
    parser.add_argument("--workdir", help="folder for the SQLite files (default: a temp folder)")
    args = parser.parse_args(argv)
    if min(args.sizes) < 1 or args.measure < 1 or args.params < 1:
        parser.error("--sizes, --measure and --params must be positive")
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    started = time.perf_counter()
    results = run(args)
    ratios = print_table(results, args)
    if ratios:
        worst = max(ratios)
        verdict = "met" if worst <= GOAL_RATIO else "MISSED"
        print(
            f"\nAMED sampler, largest / smallest study: worst ratio {worst:.2f}x "
            f"(goal <= {GOAL_RATIO:.0f}x): {verdict}"
        )
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
