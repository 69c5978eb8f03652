"""A study on SQLite killed with SIGKILL continues the same chains when it is run again.

The worker script below runs two chains in one process. It is killed twice: once while a trial is
being evaluated, and once in the worst window, after `after_trial` has stored a decision but
before Optuna has marked the trial finished. After a final uninterrupted run, every chain read
back from the file must be valid and step for step identical to the chains of an uninterrupted
run with the same seed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from amed_opt.samplers import ChainStep
from amed_opt.samplers import chain_history
from amed_opt.study.storage import sqlite_wal_storage


REPO_ROOT = Path(__file__).resolve().parents[3]

WORKER = textwrap.dedent(
    """
    import sys
    import time

    import optuna
    from optuna.distributions import CategoricalDistribution

    from amed_opt.samplers import ChainSettings
    from amed_opt.samplers import FixedStart
    from amed_opt.samplers import MetropolisHastingsSampler
    from amed_opt.samplers import QualityScore
    from amed_opt.study.storage import sqlite_wal_storage

    BITS = (2, 3, 4, 5, 6, 7, 8)
    LAYERS = [f"layer{i}" for i in range(5)]
    SPACE = {name: CategoricalDistribution(BITS) for name in LAYERS}


    def values_of(params):
        bits = [params[name] for name in LAYERS]
        accuracy = 0.9 - sum((8 - b) ** 2 * 0.003 * (i + 1) for i, b in enumerate(bits))
        latency = sum(b * (i + 1) for i, b in enumerate(bits)) / 10
        return accuracy, latency


    class SlowToFinish(MetropolisHastingsSampler):
        # Widens the window between after_trial and the end of the trial, for the kill.
        def after_trial(self, study, trial, state, values):
            super().after_trial(study, trial, state, values)
            print("decided", trial.number, flush=True)
            time.sleep(float(sys.argv[4]))


    def make_sampler(cls=MetropolisHastingsSampler, chain_ids=None):
        return cls(
            search_space=SPACE,
            chains=ChainSettings(
                score=[QualityScore(latency_reference=12.0, latency_weight=w) for w in (0.5, 2.0)],
                temperature=0.02,
                chain_ids=chain_ids,
            ),
            start=FixedStart({name: 8 for name in LAYERS}),
            seed=3,
        )


    def objective(trial):
        params = {name: trial.suggest_categorical(name, BITS) for name in LAYERS}
        print("started", trial.number, flush=True)
        time.sleep(float(sys.argv[3]))
        return values_of(params)


    if __name__ == "__main__":
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = sqlite_wal_storage(sys.argv[1])
        study = optuna.create_study(
            study_name="resume",
            storage=storage,
            directions=["maximize", "minimize"],
            sampler=make_sampler(SlowToFinish, [int(sys.argv[5])] if len(sys.argv) > 5 else None),
            load_if_exists=True,
        )
        study.optimize(objective, n_trials=int(sys.argv[2]))
    """
)


def _run_worker(
    script: Path,
    url: str,
    n_trials: int,
    *,
    objective_s: float,
    after_trial_s: float,
    chain_id: int | None = None,
) -> subprocess.Popen[str]:
    chain = [] if chain_id is None else [str(chain_id)]
    return subprocess.Popen(
        [sys.executable, str(script), url, str(n_trials), str(objective_s), str(after_trial_s)]
        + chain,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def _kill_when(process: subprocess.Popen[str], line_prefix: str, occurrence: int) -> None:
    assert process.stdout is not None
    seen = 0
    for line in process.stdout:
        if line.startswith(line_prefix):
            seen += 1
            if seen == occurrence:
                process.send_signal(signal.SIGKILL)
                break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def _steps(history: list[ChainStep]) -> list[tuple[Any, ...]]:
    return [(r.kind, r.proposal, r.accepted, r.params, r.score) for r in history]


def _reference(namespace: dict[str, Any], n_trials: int) -> optuna.Study:
    """The worker's chains, uninterrupted and in one process, in memory."""
    study = optuna.create_study(
        directions=["maximize", "minimize"], sampler=namespace["make_sampler"]()
    )
    study.optimize(lambda t: namespace["values_of"](_suggest(t, namespace)), n_trials=n_trials)
    return study


def _load_worker(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    namespace: dict[str, Any] = {"__name__": "worker"}
    exec(compile(WORKER, str(script), "exec"), namespace)
    return script, namespace


def test_sigkilled_study_resumes_the_same_chains(
    tmp_path: Path, check_chain: Callable[..., list[ChainStep]]
) -> None:
    script, namespace = _load_worker(tmp_path)
    reference = _reference(namespace, 60)

    url = f"sqlite:///{tmp_path / 'study.db'}"
    # Killed while the 6th trial is being evaluated.
    _kill_when(_run_worker(script, url, 40, objective_s=0.02, after_trial_s=0.0), "started", 6)
    # Killed after the decision on the 4th trial of this run was stored, before the trial ended.
    _kill_when(_run_worker(script, url, 40, objective_s=0.0, after_trial_s=5.0), "decided", 1)
    # And once more during an evaluation, then a run to the end.
    _kill_when(_run_worker(script, url, 40, objective_s=0.02, after_trial_s=0.0), "started", 9)
    final = _run_worker(script, url, 30, objective_s=0.0, after_trial_s=0.0)
    final.communicate(timeout=120)
    assert final.returncode == 0

    study = optuna.load_study(study_name="resume", storage=sqlite_wal_storage(url))
    states = [trial.state for trial in study.get_trials()]
    # Each kill leaves its trial RUNNING (unless a kill "during an evaluation" came late enough
    # to land between two trials, which changes nothing below).
    assert 1 <= states.count(TrialState.RUNNING) <= 3
    space = namespace["SPACE"]
    for chain in (0, 1):
        resumed = check_chain(study, chain, space)
        expected = chain_history(reference, chain)
        assert 18 <= len(resumed) <= len(expected)
        assert _steps(resumed) == _steps(expected)[: len(resumed)]
    # A trial killed after its decision was stored is proposed again, identically.
    trials = study.get_trials()
    decided = [
        t for t in trials if t.state == TrialState.RUNNING and "mh:decision" in t.system_attrs
    ]
    assert decided  # At least the one killed in the widened window.
    for killed in decided:
        proposal = killed.system_attrs["mh:proposal"]
        assert any(
            later.number > killed.number
            and later.params == killed.params
            and later.system_attrs["mh:proposal"]["chain"] == proposal["chain"]
            and later.system_attrs["mh:proposal"]["step"] == proposal["step"]
            for later in trials
        )


def _suggest(trial: optuna.Trial, namespace: dict[str, Any]) -> dict[str, Any]:
    return {
        name: trial.suggest_categorical(name, namespace["BITS"]) for name in namespace["LAYERS"]
    }


def test_one_chain_per_worker_process_on_one_sqlite_file(
    tmp_path: Path, check_chain: Callable[..., list[ChainStep]]
) -> None:
    script, namespace = _load_worker(tmp_path)
    reference = _reference(namespace, 40)
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    optuna.create_study(
        study_name="resume", storage=sqlite_wal_storage(url), directions=["maximize", "minimize"]
    )
    workers = [
        _run_worker(script, url, 15, objective_s=0.01, after_trial_s=0.0, chain_id=chain)
        for chain in (0, 1)
    ]
    for worker in workers:
        worker.communicate(timeout=120)
        assert worker.returncode == 0

    study = optuna.load_study(study_name="resume", storage=sqlite_wal_storage(url))
    assert len(study.trials) == 30
    assert all(trial.state == TrialState.COMPLETE for trial in study.trials)
    for chain in (0, 1):
        history = check_chain(study, chain, namespace["SPACE"])
        assert {r.kind for r in history} <= {"init", "adopted", "move"}
        # Whether chain 1 adopted chain 0's start or evaluated it itself depends on timing; the
        # head after step 0 is the same either way, and so is every later step.
        expected = chain_history(reference, chain)[: len(history)]
        assert [step[1:] for step in _steps(history)] == [step[1:] for step in _steps(expected)]
