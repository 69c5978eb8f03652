"""The main job end to end on the synthetic test study: runs, resumes, reports, rejects bad
input with one line and exit code 2 and no database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from amed_opt.app import RunOptions
from amed_opt.app.components import build_components
from amed_opt.run import main
from amed_opt.samplers import chain_history
from amed_opt.study.sensitivity import probed_start
from amed_opt.study.spec import load_spec
from amed_opt.study.start_candidates import bridged_ladder


STUDY = Path(__file__).resolve().parents[1] / "data" / "synthetic_study.toml"
REPO = Path(__file__).resolve().parents[2]


def _args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--study",
        str(STUDY),
        "--results-dir",
        str(tmp_path / "results"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
        *extra,
    ]


def _with_sampler(tmp_path: Path, lines: str) -> Path:
    """The test study with `lines` added to its `[sampler]` section, written under tmp_path."""
    path = tmp_path / "study.toml"
    path.write_text(STUDY.read_text().replace("[sampler]", "[sampler]\n" + lines))
    return path


def _load(tmp_path: Path, name: str = "synthetic-r18-amed-seed0") -> optuna.Study:
    url = f"sqlite:///{tmp_path / 'results' / 'synthetic-r18.db'}"
    return optuna.load_study(study_name=name, storage=url)


def test_run_records_everything_and_resumes_to_the_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(tmp_path, "--n-trials", "6")) == 0
    # The run closed its storage: SQLite folded the WAL into the file, which stays as it is.
    assert not (tmp_path / "results" / "synthetic-r18.db-wal").exists()
    study = _load(tmp_path)
    trials = study.get_trials()
    assert len(trials) == 6 and all(t.state.name == "COMPLETE" for t in trials)
    assert study.metric_names == ["accuracy", "latency_ms"]
    assert study.user_attrs["spec"]["name"] == "synthetic-r18"
    assert study.user_attrs["hardware_preset"] == "scale-sim"
    assert "optuna" in study.user_attrs["versions"]
    assert study.user_attrs["git_commit"]
    first = trials[0]
    assert set(first.params.values()) == {8}  # the chain starts at uniform 8-bit
    assert first.values[1] == pytest.approx(study.user_attrs["reference_latency_ms"])
    for key in ("bits", "latency_cycles", "size_bytes", "cycles_by_layer", "mh_chain"):
        assert key in first.user_attrs
    assert sum(first.user_attrs["cycles_by_layer"].values()) == first.user_attrs["latency_cycles"]
    out = capsys.readouterr().out
    assert "Pareto front" in out and "optuna-dashboard sqlite:///" in out
    assert "--artifact-dir" in out
    front = json.loads((tmp_path / "results" / "synthetic-r18-amed-seed0_pareto.json").read_text())
    assert front and {"accuracy", "latency_ms", "bits", "size_bytes"} <= set(front[0])

    # The same command with a larger budget tops the study up; the chains continue.
    assert main(_args(tmp_path, "--n-trials", "10")) == 0
    study = _load(tmp_path)
    assert len(study.get_trials()) == 10
    chains = {t.user_attrs["mh_chain"] for t in study.get_trials() if "mh_chain" in t.user_attrs}
    assert chains == {0, 1}
    # A finished budget runs nothing more.
    assert main(_args(tmp_path, "--n-trials", "10")) == 0
    assert len(_load(tmp_path).get_trials()) == 10


@pytest.mark.parametrize("sampler", ["tpe", "nsga2", "random"])
def test_baselines_run_on_the_same_space_and_start_from_8_bit(
    tmp_path: Path, sampler: str
) -> None:
    assert main(_args(tmp_path, "--n-trials", "3", "--sampler", sampler)) == 0
    study = _load(tmp_path, f"synthetic-r18-{sampler}-seed0")
    trials = study.get_trials()
    assert len(trials) == 3
    assert set(trials[0].params.values()) == {8}
    assert len(trials[1].params) == len(trials[0].params) == 19


def test_best_uniform_start_evaluates_uniform_allocations_then_chains_adopt(
    tmp_path: Path,
) -> None:
    study_file = tmp_path / "best_start.toml"
    study_file.write_text(
        STUDY.read_text().replace(
            "[sampler]", '[sampler]\nstart = "best-uniform"\nboundary = "lazy"\nn_flips = 3'
        )
    )
    args = _args(tmp_path, "--n-trials", "10")
    args[1] = str(study_file)
    assert main(args) == 0
    study = _load(tmp_path)
    trials = study.get_trials()
    assert [set(t.params.values()) for t in trials[:7]] == [{b} for b in (8, 7, 6, 5, 4, 3, 2)]
    assert trials[0].values[1] == pytest.approx(study.user_attrs["reference_latency_ms"])
    assert all("mh_chain" not in t.user_attrs for t in trials[:7])
    assert study.user_attrs["spec"]["sampler"]["start"] == "best-uniform"
    for chain in (0, 1):
        first = chain_history(study, chain)[0]
        assert first.kind == "adopted" and first.trial_number < 7
    # lambda = 0.5 and lambda = 2 rank the uniform allocations differently.
    assert chain_history(study, 0)[0].trial_number < chain_history(study, 1)[0].trial_number


def test_best_bridged_start_evaluates_the_ladder_and_its_midpoints_then_chains_adopt(
    tmp_path: Path,
) -> None:
    study_file = _with_sampler(tmp_path, 'start = "best-bridged"\nn_flips = 3')
    args = _args(tmp_path, "--n-trials", "15")
    args[1] = str(study_file)
    assert main(args) == 0
    study = _load(tmp_path)
    trials = study.get_trials()
    spec = load_spec(str(study_file))
    components = build_components(spec, RunOptions(cache_dir=tmp_path / "cache", progress=False))
    expected = bridged_ladder(components.hardware, components.space, None)
    assert len(expected) == 13  # uniform 8..2 bits, then six midpoints
    assert [t.params for t in trials[:13]] == expected
    assert all("mh_chain" not in t.user_attrs for t in trials[:13])
    for chain in (0, 1):
        first = chain_history(study, chain)[0]
        assert first.kind == "adopted" and first.trial_number < 13


def test_probed_start_evaluates_ladder_probes_and_model_picks_then_chains_adopt(
    tmp_path: Path,
) -> None:
    study_file = _with_sampler(tmp_path, 'start = "probed"\nn_flips = 3')
    spec = load_spec(str(study_file))
    components = build_components(spec, RunOptions(cache_dir=tmp_path / "cache", progress=False))
    # 30 trials: at most 15 probes, the 15 heaviest of the 19 searched layers.
    capped, _ = probed_start(
        components.hardware, components.space, None, latency_weights=[0.5, 2.0], max_probes=15
    )
    assert len(capped) == 7 + 15
    args = _args(tmp_path, "--n-trials", "30")
    args[1] = str(study_file)
    assert main(args) == 0
    assert [t.params for t in _load(tmp_path).get_trials()[:22]] == capped
    # 60 trials: every layer probed, then the picks, then the chains.
    args[-1] = "60"
    (tmp_path / "results" / "synthetic-r18.db").unlink()
    assert main(args) == 0
    study = _load(tmp_path)
    trials = study.get_trials()
    first, model = probed_start(
        components.hardware, components.space, None, latency_weights=[0.5, 2.0], max_probes=30
    )
    assert model is not None and len(first) == 7 + 19
    assert [t.params for t in trials[:26]] == first
    expected = model([(t.params, tuple(t.values)) for t in trials[:26]])
    distinct = [p for i, p in enumerate(expected) if p not in expected[:i] and p not in first]
    picks = trials[26 : 26 + len(distinct)]
    assert [t.params for t in picks] == distinct
    assert [t.system_attrs["mh:candidate"]["index"] for t in picks] == list(
        range(26, 26 + len(distinct))
    )
    # The picks mix bitwidths across layers, and each chain starts from the best candidate.
    assert any(len(set(t.params.values())) > 1 for t in picks)
    for chain in (0, 1):
        start = chain_history(study, chain)[0]
        assert start.kind == "adopted" and start.trial_number < 26 + len(picks)
    # The pick at lambda 2 beats every uniform allocation on its own Q (synthetic: additive).
    reference = trials[0].values[1]
    q2 = [t.values[0] - 2.0 * t.values[1] / reference for t in trials[: 26 + len(picks)]]
    assert max(q2[26:]) > max(q2[:7])


def test_size_limit_is_a_filter_for_amed(tmp_path: Path) -> None:
    study_file = tmp_path / "limited.toml"
    text = STUDY.read_text().replace(
        "[evaluator]", "[search]\nmax_size_kib = 9000.0\n\n[evaluator]"
    )
    study_file.write_text(text)
    args = _args(tmp_path, "--n-trials", "5")
    args[1] = str(study_file)
    assert main(args) == 0
    study = optuna.load_study(
        study_name="synthetic-r18-amed-seed0",
        storage=f"sqlite:///{tmp_path / 'results' / 'synthetic-r18.db'}",
    )
    sizes = [t.user_attrs["size_bytes"] for t in study.get_trials()]
    assert all(size <= 9000 * 1024 for size in sizes)
    assert all(t.constraints["size_kib_over_limit"] <= 0 for t in study.get_trials())


def _run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "amed_opt.run", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--study", "no-such-study"], "unknown study 'no-such-study'"),
        (["--study", str(STUDY), "--sampler", "cmaes"], "invalid choice: 'cmaes'"),
        (["--study", str(STUDY), "--n-trials", "0"], "must be a positive integer"),
        (["--study", str(STUDY), "--hardware", "tpu-v9"], "tpu-v9"),
        (["--study", str(STUDY), "--storage", "sqlite:///missing/dir/x.db"], "does not exist"),
        (["--study", str(STUDY), "--storage", "nosuchdb://x"], "cannot open storage"),
        (["--study", str(STUDY), "--storage", "not a url"], "is not a database URL"),
        (["--study", "r18", "--data-root", "/nonexistent/fmnist"], "/nonexistent/fmnist"),
    ],
)
def test_bad_input_one_line_exit_2_no_database(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = _run_cli(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.rglob("*.db")), "a database file was created"


def test_malformed_study_file_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(STUDY.read_text().replace("[sampler]", "[sampler]\ntemprature = 1.0"))
    result = _run_cli(tmp_path, "--study", str(bad))
    assert result.returncode == 2
    assert f"{bad}: unknown key 'sampler.temprature'" in result.stderr
    assert not list(tmp_path.rglob("*.db"))


def test_console_script_is_declared() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'amed-opt = "amed_opt.run:main"' in text


def test_a_killed_run_resumes_with_the_same_command(tmp_path: Path) -> None:
    import signal
    import sqlite3
    import time

    args = [*_args(tmp_path, "--n-trials", "40")]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "amed_opt.run", *args]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    database = tmp_path / "results" / "synthetic-r18.db"
    deadline = time.monotonic() + 240
    complete = 0
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists():
            try:
                with sqlite3.connect(database, timeout=5) as connection:
                    complete = connection.execute(
                        "SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'"
                    ).fetchone()[0]
            except sqlite3.OperationalError:
                complete = 0  # tables not created yet
        if complete >= 8:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = len(_load(tmp_path).get_trials())
    assert 8 <= killed_at < 40

    resumed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    trials = _load(tmp_path).get_trials()
    complete_trials = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete_trials) == 40
    # Every chain's steps are consecutive: the chains continued where they stopped.
    for chain in (0, 1):
        steps = sorted(
            t.user_attrs["mh_step"]
            for t in complete_trials
            if t.user_attrs.get("mh_chain") == chain and "mh_step" in t.user_attrs
        )
        assert steps == list(range(steps[0], steps[0] + len(steps)))


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


@pytest.mark.skipif(_cuda_available(), reason="needs a machine without CUDA")
def test_workers_on_cuda_without_a_gpu_stop_with_one_line_before_any_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(tmp_path, "--workers", "2", "--device", "cuda")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CUDA is not available" in err
    assert not list(tmp_path.rglob("*.db"))
