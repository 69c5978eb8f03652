"""`--workers N`: the comparison's studies in N processes, each study by one worker, with the
same trials as one worker; a failing or killed worker is one line and a non-zero exit, Ctrl-C
stops every worker and says how to resume."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import optuna
import pytest

from amed_opt.app import RunOptions
from amed_opt.compare import analyse_comparison
from amed_opt.compare import json_ready
from amed_opt.compare import plan_comparison
from amed_opt.compare import run_comparison
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.compare._workers import run_in_workers
from amed_opt.study.errors import RunFailure
from amed_opt.study.spec import SamplerName
from amed_opt.study.storage import close_storage
from amed_opt.study.storage import open_storage


SAMPLERS = (SamplerName.AMED, SamplerName.TPE, SamplerName.NSGA2)


def _plan(study_path: Path, folder: Path, seeds: int = 1) -> ComparisonPlan:
    folder.mkdir(parents=True, exist_ok=True)
    return plan_comparison(
        str(study_path),
        samplers=SAMPLERS,
        n_trials=10,
        seeds=seeds,
        storage=f"sqlite:///{folder / 'compare.db'}",
        out=folder / "out",
    )


def _trials(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every trial of every study, without what differs between two identical runs: the time
    its evaluation took and the random ids of its dashboard images."""
    trials = {}
    for summary in optuna.get_all_study_summaries(url):
        study = optuna.load_study(study_name=summary.study_name, storage=url)
        trials[summary.study_name] = [
            (
                t.number,
                t.state,
                t.params,
                t.values,
                {k: v for k, v in t.user_attrs.items() if k != "evaluation_s"},
                {k: v for k, v in t.system_attrs.items() if not k.startswith("artifacts:")},
            )
            for t in study.get_trials()
        ]
    return trials


def _untimed(value: Any) -> Any:
    """An analysis as JSON data without its timings (`trial_seconds`, `evaluation_seconds`)."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not k.endswith("_seconds")}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _analysis(plan: ComparisonPlan) -> Any:
    storage = open_storage(plan.storage_url)
    try:
        return _untimed(json_ready(analyse_comparison(plan, storage)))
    finally:
        close_storage(storage)


def test_results_do_not_depend_on_the_number_of_workers(study_path: Path, tmp_path: Path) -> None:
    options = RunOptions(cache_dir=tmp_path / "cache", progress=False)
    serial_plan = _plan(study_path, tmp_path / "serial")
    serial = run_comparison(serial_plan, options)
    plan = _plan(study_path, tmp_path / "parallel")
    parallel = run_comparison(plan, options, workers=2)

    # The same studies, reported in plan order, each run to its budget by one worker.
    assert [s.study_name for s in parallel.studies] == [s.study_name for s in serial.studies]
    assert [s.trials_run for s in parallel.studies] == [10] * 3
    assert parallel.uniform_trials_run == serial.uniform_trials_run == 7
    # Every trial the same: parameters, values, user and sampler attributes.
    assert _trials(plan.storage_url) == _trials(serial_plan.storage_url)
    assert _analysis(plan) == _analysis(serial_plan)
    # Every evaluation went through a memo; workers may measure one allocation twice.
    for run in (serial, parallel):
        assert run.memo_hits + run.memo_misses == 3 * 10 + 7
    assert parallel.memo_misses >= serial.memo_misses
    assert len(list((tmp_path / "parallel" / "out" / "studies").glob("*_pareto.csv"))) == 3


def test_a_failing_worker_stops_the_others_and_names_its_study(
    study_path: Path, tmp_path: Path
) -> None:
    plan = _plan(study_path, tmp_path, seeds=2)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    options = RunOptions(cache_dir=tmp_path / "cache", results_dir=blocked, progress=False)
    tasks = [(sampler, seed) for seed in plan.seeds for sampler in plan.samplers]
    with pytest.raises(RunFailure) as failure:
        run_in_workers(plan, options, tasks, workers=2, gpus=0)
    message = str(failure.value)
    assert "\n" not in message and "--results-dir" in message
    assert "failed while running study synthetic-r18-" in message
    assert "run the same command" in message
    workers = [p for p in multiprocessing.active_children() if "compare-worker" in p.name]
    assert not workers


def _command(study_path: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "amed_opt.compare",
        "--study",
        str(study_path),
        "--samplers",
        "amed,tpe",
        "--seeds",
        "2",
        "--n-trials",
        "2000",
        "--storage",
        f"sqlite:///{tmp_path / 'compare.db'}",
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
        "--workers",
        "2",
        *extra,
    ]


def _children(pid: int) -> list[int]:
    """The worker processes of `pid` (spawned, so their command line names `spawn_main`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


def _search_trials_per_study(database: Path, state: str) -> list[int]:
    """Trials in `state` of each search study that has any (not the uniform study)."""
    try:
        with sqlite3.connect(database, timeout=5) as connection:
            rows = connection.execute(
                "SELECT COUNT(*) FROM trials JOIN studies USING (study_id) "
                "WHERE state = ? AND study_name NOT LIKE '%-uniform' GROUP BY study_id",
                (state,),
            ).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet
    return [int(row[0]) for row in rows]


def _search_trials(database: Path, state: str) -> int:
    """Trials in `state` of the searches (not the uniform study)."""
    return sum(_search_trials_per_study(database, state))


def _start_and_wait_for_workers(
    command: list[str], tmp_path: Path
) -> tuple[subprocess.Popen[str], list[int], Path]:
    """Start the command in its own session and return once both workers finished trials."""
    stderr = tmp_path / "stderr.txt"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr.open("w"),
        text=True,
        start_new_session=True,
    )
    database = tmp_path / "compare.db"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        # Both workers inside a study: two searches with finished trials (under load one
        # worker can finish 20 trials while the other is still importing).
        counts = sorted(_search_trials_per_study(database, "COMPLETE"))
        if len(counts) >= 2 and counts[-2] >= 5:
            break
        time.sleep(0.1)
    assert process.poll() is None, stderr.read_text()
    workers = _children(process.pid)
    assert len(workers) == 2
    return process, workers, stderr


def _gone(pids: list[int], timeout_s: float = 30) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return True
        time.sleep(0.1)
    return False


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


@needs_proc
def test_ctrl_c_stops_every_worker_and_says_how_to_resume(
    study_path: Path, tmp_path: Path
) -> None:
    process, workers, stderr = _start_and_wait_for_workers(
        _command(study_path, tmp_path), tmp_path
    )
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    assert process.wait(timeout=120) == 130
    err = stderr.read_text()
    assert err.strip().splitlines()[-1] == (
        "amed-opt compare: interrupted; run the same command again to resume"
    )
    assert "Traceback" not in err
    assert _gone(workers)
    # The interrupted trials were marked FAIL, as with one worker.
    assert _search_trials(tmp_path / "compare.db", "RUNNING") == 0


@needs_proc
def test_a_killed_worker_fails_the_command_with_one_line(study_path: Path, tmp_path: Path) -> None:
    process, workers, stderr = _start_and_wait_for_workers(
        _command(study_path, tmp_path), tmp_path
    )
    os.kill(workers[0], signal.SIGKILL)
    assert process.wait(timeout=120) == 1
    lines = stderr.read_text().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("amed-opt compare: error: worker ")
    assert "stopped with exit code -9 while running study synthetic-r18-" in lines[0]
    assert _gone(workers)


def test_workers_must_be_positive(study_path: Path, tmp_path: Path) -> None:
    plan = _plan(study_path, tmp_path)
    with pytest.raises(ValueError, match="--workers"):
        run_comparison(plan, RunOptions(progress=False), workers=0)
    assert not (tmp_path / "compare.db").exists()


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


@pytest.mark.skipif(_cuda_available(), reason="needs a machine without CUDA")
def test_workers_on_cuda_without_a_gpu_is_the_usual_line_and_no_database(
    study_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from amed_opt.compare.__main__ import main

    args = _command(study_path, tmp_path, "--device", "cuda")[3:]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CUDA is not available" in err
    assert not (tmp_path / "compare.db").exists()


def test_a_stopped_command_fails_the_trials_its_workers_left_running(
    study_path: Path, tmp_path: Path
) -> None:
    """After every worker has stopped (a worker terminated mid-write leaves its trial RUNNING),
    the command fails the RUNNING trials of its own studies, and no others."""
    from amed_opt.compare._workers import _fail_left_running
    from amed_opt.study.naming import study_name

    plan = _plan(study_path, tmp_path)
    storage = open_storage(plan.storage_url)
    ours = study_name(plan.study_spec(SamplerName.TPE, 0))
    for name in (ours, "another-command-study"):
        study = optuna.create_study(study_name=name, storage=storage)
        study.tell(study.ask(), 1.0)
        study.ask()  # left RUNNING
    close_storage(storage)
    _fail_left_running(plan, [(SamplerName.AMED, 0), (SamplerName.TPE, 0)])  # AMED's: none yet
    storage = open_storage(plan.storage_url)
    states = {
        name: [t.state.name for t in optuna.load_study(study_name=name, storage=storage).trials]
        for name in (ours, "another-command-study")
    }
    close_storage(storage)
    assert states == {ours: ["COMPLETE", "FAIL"], "another-command-study": ["COMPLETE", "RUNNING"]}
