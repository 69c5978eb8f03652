"""Several worker processes on one study, on SQLite (WAL) and on a real PostgreSQL server.

Each worker is a small script (no torch) that runs the real pieces: `open_storage`, the study's
creation race, the MH sampler and the study-wide budget loop `run_to_budget`. Workers are killed
with SIGKILL, stopped with SIGSTOP past the heartbeat grace period, started at the same instant,
and locked out of the SQLite file; afterwards every chain read back from the storage must be
valid, exactly the serial chain of the same seed, and the budget must hold.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from amed_opt.samplers import chain_history


REPO_ROOT = Path(__file__).resolve().parents[2]
BUDGET = 24

WORKER = textwrap.dedent(
    """
    import os
    import sys
    import time

    import optuna
    from optuna.distributions import CategoricalDistribution

    from amed_opt.app.worker_loop import run_to_budget
    from amed_opt.cli import storage_timings_from
    from amed_opt.samplers import ChainSettings
    from amed_opt.samplers import FixedStart
    from amed_opt.samplers import MetropolisHastingsSampler
    from amed_opt.study.storage import StorageError
    from amed_opt.study.storage import open_storage

    BITS = (2, 3, 4, 5, 6, 7, 8)
    LAYERS = [f"layer{i}" for i in range(6)]


    def value(params):
        return -sum((params[n] - 4 - i % 3) ** 2 for i, n in enumerate(LAYERS)) / 8


    def sampler(n_chains):
        return MetropolisHastingsSampler(
            search_space={n: CategoricalDistribution(BITS) for n in LAYERS},
            chains=ChainSettings(temperature=[0.5] * n_chains),
            start=FixedStart({n: 8 for n in LAYERS}),
            seed=7,
        )


    def objective(trial):
        params = {n: trial.suggest_categorical(n, BITS) for n in LAYERS}
        print("started", trial.number, flush=True)
        time.sleep(float(sys.argv[3]))
        return value(params)


    if __name__ == "__main__":
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        url, budget, n_chains = sys.argv[1], int(sys.argv[2]), int(sys.argv[4])
        if len(sys.argv) > 5:  # Start at this wall-clock instant (the simultaneous start).
            time.sleep(max(0.0, float(sys.argv[5]) - time.time()))
        timings = storage_timings_from(os.environ)  # short waits, from ENV below
        try:
            storage = open_storage(url, timings=timings)
            try:
                study = optuna.create_study(
                    study_name="w", storage=storage, direction="maximize",
                    sampler=sampler(n_chains),
                )
            except optuna.exceptions.DuplicatedStudyError:
                study = optuna.load_study(
                    study_name="w", storage=storage, sampler=sampler(n_chains)
                )
            run_to_budget(study, objective, budget, timings=timings)
        except StorageError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
    """
)

ENV = {
    "AMED_OPT_HEARTBEAT_INTERVAL_S": "1",
    "AMED_OPT_GRACE_PERIOD_S": "3",
    "PYTHONPATH": str(REPO_ROOT),
}


def start(
    tmp_path: Path, url: str, *args: object, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    script = tmp_path / "worker.py"
    if not script.exists():
        script.write_text(WORKER)
    return subprocess.Popen(
        [sys.executable, str(script), url, *map(str, args)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **ENV, **(env or {})},
    )


def wait_for_line(process: subprocess.Popen[str], prefix: str, occurrence: int = 1) -> None:
    assert process.stdout is not None
    seen = 0
    for line in process.stdout:
        if line.startswith(prefix):
            seen += 1
            if seen == occurrence:
                return
    raise AssertionError(f"worker ended before printing {prefix!r} {occurrence} times")


def finish(process: subprocess.Popen[str]) -> str:
    _, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    return err


def check_study(url: str, *, n_chains: int, workers: int, budget: int = BUDGET) -> optuna.Study:
    """The budget holds, nothing is RUNNING, and every chain is the serial chain, intact."""
    study = optuna.load_study(study_name="w", storage=url)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert budget <= len(complete) <= budget + workers - 1
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    steps: list[int] = []
    for chain in range(n_chains):
        history = chain_history(study, chain)
        assert [r.step for r in history] == list(range(len(history)))
        head = None
        for record in history:
            trial = trials[record.trial_number]
            if record.kind == "move":
                # Every step continues the previous head.
                assert trial.system_attrs["mh:proposal"]["parent"] == head
            head = record.head_trial_number
            if record.kind != "adopted":
                steps.append(record.trial_number)
                assert trial.user_attrs["mh_step"] == record.step
                assert trial.user_attrs["mh_accepted"] == record.accepted
        # Exactly the serial chain of the same seed (same proposals, same decisions).
        serial = _serial_chain(chain, n_chains, len(history))
        assert [(r.params, r.accepted) for r in history] == serial
    assert len(steps) == len(set(steps))  # No trial decided two steps.
    # A COMPLETE trial marked accepted is a step. (A worker killed between its committed
    # decision and the end of its trial leaves a FAIL trial whose decision was rolled back.)
    accepted = [t.number for t in complete if t.user_attrs.get("mh_accepted") is True]
    assert set(accepted) <= set(steps), _describe(trials)
    for trial in complete:
        if "mh:proposal" in trial.system_attrs:
            marked = {"mh_step", "mh_speculative", "mh_stale"} & set(trial.user_attrs)
            assert len(marked) == 1, trial.user_attrs
    return study


def _describe(trials: list[optuna.trial.FrozenTrial]) -> str:
    return "\n".join(
        f"{t.number} {t.state.name} {t.system_attrs.get('mh:proposal', {}).get('step')} "
        f"{ {k: v for k, v in t.user_attrs.items() if k.startswith('mh_')} }"
        for t in trials
    )


def _serial_chain(chain: int, n_chains: int, length: int) -> list[tuple[object, bool]]:
    namespace: dict[str, object] = {}
    exec(compile(WORKER, "worker", "exec"), namespace)  # noqa: S102 - our own script
    sampler = namespace["sampler"](n_chains)  # type: ignore[operator]
    value = namespace["value"]
    study = optuna.create_study(direction="maximize", sampler=sampler)
    layers = namespace["LAYERS"]
    bits = namespace["BITS"]

    def objective(trial: optuna.Trial) -> float:
        return value({n: trial.suggest_categorical(n, bits) for n in layers})  # type: ignore[operator, attr-defined]

    while len(chain_history(study, chain)) < length:
        study.optimize(objective, n_trials=n_chains)
    return [(r.params, r.accepted) for r in chain_history(study, chain)[:length]]


@pytest.mark.parametrize("n_chains", [1, 2])
def test_three_workers_one_killed_mid_trial(
    tmp_path: Path, storage_url: str, n_chains: int
) -> None:
    workers = [start(tmp_path, storage_url, BUDGET, 0.2, n_chains) for _ in range(3)]
    wait_for_line(workers[0], "started", 3)
    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait()
    for worker in workers[1:]:
        finish(worker)
    finish(start(tmp_path, storage_url, BUDGET, 0.2, n_chains))  # The same command once more.
    study = check_study(storage_url, n_chains=n_chains, workers=3)
    killed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert killed  # Its RUNNING trial was failed (heartbeat) ...
    for trial in killed:
        proposal = trial.system_attrs.get("mh:proposal")
        if proposal is None:
            continue
        history = chain_history(study, proposal["chain"])
        step = history[proposal["step"]] if proposal["step"] < len(history) else None
        before = history[proposal["step"] - 1] if proposal["step"] else None
        if (
            step is not None
            and before is not None
            and before.head_trial_number == proposal["parent"]
        ):
            assert step.proposal == trial.params  # ... and its proposal was made again.


def test_a_stopped_worker_s_late_result_is_dropped(tmp_path: Path, storage_url: str) -> None:
    workers = [start(tmp_path, storage_url, BUDGET, 0.3, 1) for _ in range(3)]
    wait_for_line(workers[0], "started", 2)
    workers[0].send_signal(signal.SIGSTOP)
    time.sleep(6.0)  # Past the grace period (3 s) with a heartbeat every second.
    workers[0].send_signal(signal.SIGCONT)
    errors = [finish(worker) for worker in workers]
    assert "late result is dropped" in errors[0]
    check_study(storage_url, n_chains=1, workers=3)


def test_workers_killed_at_random_five_times_then_one_command(
    tmp_path: Path, storage_url: str
) -> None:
    # A budget the killed rounds cannot finish (they completed about 25 trials in all), so that
    # the last command, one worker, ends the study: exactly on budget. Had three workers of a
    # killed round reached it, up to two more trials in flight would be allowed (the rule).
    budget = 60
    rng = random.Random(0)
    for _ in range(5):
        workers = [start(tmp_path, storage_url, budget, 0.2, 2) for _ in range(3)]
        time.sleep(rng.uniform(1.5, 3.0))
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
    finish(start(tmp_path, storage_url, budget, 0.2, 2))
    study = check_study(storage_url, n_chains=2, workers=1, budget=budget)
    assert len([t for t in study.trials if t.state == TrialState.COMPLETE]) == budget


def test_workers_started_at_the_same_instant_on_an_empty_database(
    tmp_path: Path, storage_url: str
) -> None:
    at = time.time() + 4.0
    workers = [start(tmp_path, storage_url, 8, 0.1, 2, at) for _ in range(6)]
    for worker in workers:
        finish(worker)
    assert [s.study_name for s in optuna.get_all_study_summaries(storage_url)] == ["w"]
    check_study(storage_url, n_chains=2, workers=6, budget=8)


def test_a_locked_sqlite_file_is_retried_then_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    worker = start(tmp_path, url, 50, 0.2, 1, env={"AMED_OPT_SQLITE_TIMEOUT_S": "0.5"})
    wait_for_line(worker, "started", 2)
    with sqlite3.connect(tmp_path / "study.db", isolation_level=None) as locker:
        locker.execute("BEGIN EXCLUSIVE")
        _, err = worker.communicate(timeout=120)
        locker.execute("ROLLBACK")
    assert worker.returncode == 2, err
    assert "retrying" in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: the storage stayed locked")
