"""Trials and committed chain steps per minute with 1, 2, 4 and 8 workers on one study.

Run: `python benchmarks/workers.py [--trial-s 1.0] [--trials-per-worker 10] [--workers 1 2 4 8]
[--storages sqlite postgresql] [--chains one per-worker] [--profile DIR]` (PostgreSQL: a
throw-away cluster, as in the tests; needs Debian's postgresql and the postgres extra).
`--profile` writes one cProfile file per worker process (read them with `pstats`).

The evaluator is an EMULATION of GPU-bound trials: each trial waits `--trial-s` seconds (about
the measured r18 trial time) instead of computing, so the 2-core CPU of the dev machine does
not cap the scaling; the sampler, the storage and the budget loop are the real ones
(`amed_opt.app.worker_loop.run_to_budget`, `MetropolisHastingsSampler`, `open_storage`).
Each configuration runs `--trials-per-worker` x N trials in N processes on an empty storage.

Columns: trials per minute, committed chain steps per minute (speculative and stale trials do
not count), the scaling efficiency of steps (`steps/min at N / (N x steps/min at 1)`), the
pre-fetching scheme's own bound on that efficiency at the measured acceptance rate `a`
(`(1 - (1 - a)^k) / (a k)` with `k` workers per chain; 1 when no worker shares a chain), the
acceptance rate, and the time a worker spends outside the evaluator per trial (sampler,
storage, waits for earlier steps; up to the end of its last trial). `one` chain: every worker
on one chain (pre-fetching along the rejection path, the paper's one-chain sampler);
`per-worker`: N chains for N workers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import optuna


REPO = Path(__file__).resolve().parents[1]
# the package first: tests/amed_opt (its tests) would otherwise shadow it as a namespace package
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # tests/: postgres_cluster

WORKER = textwrap.dedent(
    """
    import sys, time, warnings
    import optuna
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    from optuna.distributions import CategoricalDistribution
    from amed_opt.app.worker_loop import run_to_budget
    from amed_opt.samplers import ChainSettings, FixedStart, MetropolisHastingsSampler
    from amed_opt.study.storage import open_storage

    BITS = (2, 3, 4, 5, 6, 7, 8)
    LAYERS = [f"layer{i}" for i in range(21)]  # ResNet-18's searched layers

    url, budget, n_chains = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    trial_s = float(sys.argv[4])
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = MetropolisHastingsSampler(
        search_space={n: CategoricalDistribution(BITS) for n in LAYERS},
        chains=ChainSettings(temperature=[0.05] * n_chains),
        start=FixedStart({n: 8 for n in LAYERS}),
        seed=0,
    )
    print("ready", flush=True)
    sys.stdin.readline()  # every worker starts at once, after all have imported
    storage = open_storage(url)
    try:
        study = optuna.create_study(
            study_name="b", storage=storage, direction="maximize", sampler=sampler
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name="b", storage=storage, sampler=sampler)
    inside = [0.0]

    def objective(trial):
        params = {n: trial.suggest_categorical(n, BITS) for n in LAYERS}
        started = time.perf_counter()
        time.sleep(trial_s)  # emulated GPU-bound evaluation
        inside[0] += time.perf_counter() - started
        # An accuracy-like score: the chain accepts roughly a third of its moves.
        return 0.9 - sum((8 - params[n]) ** 2 for n in LAYERS) * 0.001
    ended = [0.0]

    def on_trial_end(study, trial):
        ended[0] = time.perf_counter()

    profile_dir = sys.argv[5] if len(sys.argv) > 5 else ""
    if profile_dir:  # --profile: one cProfile file per worker process
        import cProfile, os
        profiler = cProfile.Profile()
        profiler.enable()
    began = time.perf_counter()
    ran = run_to_budget(study, objective, budget, on_trial_end=on_trial_end)
    if profile_dir:
        profiler.disable()
        profiler.dump_stats(f"{profile_dir}/worker-{os.getpid()}.prof")
    # Up to the end of this worker's last trial: the wait for the others' last trials, once the
    # budget is taken, is idle time, not time spent per trial.
    print(ran, max(ended[0], began) - began - inside[0])
    """
)


def run(
    url: str, workers: int, budget: int, n_chains: int, trial_s: float, profile: str = ""
) -> dict[str, float]:
    script = Path(tempfile.mkdtemp()) / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), url, str(budget), str(n_chains), str(trial_s), profile],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(workers)
    ]
    for proc in procs:  # a barrier: the imports of N processes are not measured
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outside = ran = 0.0
    for proc in procs:
        out, _ = proc.communicate()
        assert proc.returncode == 0
        count, seconds = out.split()
        ran += int(count)
        outside += float(seconds)
    from amed_opt.samplers import chain_history

    study = optuna.load_study(study_name="b", storage=url)
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    start = min(t.datetime_start for t in trials if t.datetime_start)
    end = max(t.datetime_complete for t in trials if t.datetime_complete)
    minutes = (end - start).total_seconds() / 60
    moves = [r for c in range(n_chains) for r in chain_history(study, c) if r.kind == "move"]
    steps = sum(
        sum(1 for r in chain_history(study, c) if r.kind != "adopted") for c in range(n_chains)
    )
    acceptance = sum(r.accepted for r in moves) / max(len(moves), 1)
    # Pre-fetching k = workers / chains trials per chain commits (1 - (1 - a)^k) / a steps per
    # round of k trials (docs/sampler.md): the scheme's own bound on the efficiency.
    k = max(1.0, workers / n_chains)
    bound = 1.0 if acceptance == 0 else (1 - (1 - acceptance) ** k) / (acceptance * k)
    return {
        "trials_min": len(trials) / minutes,
        "steps_min": steps / minutes,
        "outside_ms": 1000 * outside / max(ran, 1),
        "acceptance": acceptance,
        "bound": bound,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trial-s", type=float, default=1.0)
    parser.add_argument("--trials-per-worker", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--storages", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--chains", nargs="+", default=["one", "per-worker"])
    parser.add_argument(
        "--profile",
        type=Path,
        help="write a cProfile file per worker process here (<storage>-<chains>-<N>/)",
    )
    args = parser.parse_args()
    from postgres_cluster import new_database
    from postgres_cluster import postgres_cluster

    print(
        f"Emulated GPU-bound trials ({args.trial_s:.2f} s wait each), "
        f"{args.trials_per_worker} trials per worker"
    )
    print(
        "storage     chains      N  trials/min  steps/min  efficiency  bound  acceptance"
        "  outside-eval ms/trial"
    )
    with postgres_cluster() as server:
        for storage in args.storages:
            for chains in args.chains:
                base = None
                for n in args.workers:
                    if storage == "sqlite":
                        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
                    else:
                        url = new_database(server)
                    n_chains = 1 if chains == "one" else n
                    folder = ""
                    if args.profile is not None:
                        folder = str(args.profile / f"{storage}-{chains}-{n}")
                        Path(folder).mkdir(parents=True, exist_ok=True)
                    row = run(url, n, args.trials_per_worker * n, n_chains, args.trial_s, folder)
                    base = base or row["steps_min"]
                    efficiency = row["steps_min"] / (n * base)
                    print(
                        f"{storage:<11} {chains:<10} {n:>2}  {row['trials_min']:>10.1f}  "
                        f"{row['steps_min']:>9.1f}  {efficiency:>10.2f}  {row['bound']:>5.2f}  "
                        f"{row['acceptance']:>10.2f}  {row['outside_ms']:>10.0f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
