"""The bad-input catalog of `python -m amed_opt.run`: arguments, study files, storages, data.

Each case: exit code 2, one stderr line naming the problem, no traceback, no password, and no
file created or modified (see `conftest.check_case`). In-process: none of these depends on a
fresh interpreter.
"""

from __future__ import annotations

import gzip
import pickle
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from amed_opt.run import main


PASSWORD = "s3cretPW"
STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"
FASHION = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _argv(tmp_path: Path, study: Path | str = STUDY, *extra: str) -> list[str]:
    return [
        "--study",
        str(study),
        "--results-dir",
        str(tmp_path / "results"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
        *extra,
    ]


# (id, extra arguments, message); {tmp} is the test's folder.
ARGUMENT_CASES = [
    ("unknown-study", ["--study", "no-such-study"], "unknown study 'no-such-study'"),
    ("sampler-choice", ["--sampler", "cmaes"], "invalid choice: 'cmaes'"),
    ("n-trials-zero", ["--n-trials", "0"], "must be a positive integer"),
    ("n-trials-negative", ["--n-trials", "-4"], "must be a positive integer"),
    ("n-trials-text", ["--n-trials", "many"], "must be a positive integer"),
    ("seed-negative", ["--seed", "-1"], "--seed: must be in [0, 4294967295]"),
    ("seed-too-large", ["--seed", str(2**32)], "--seed: must be in [0, 4294967295]"),
    ("seed-text", ["--seed", "x"], "must be an integer seed"),
    ("device-unknown", ["--device", "foo"], "--device 'foo' is not a torch device"),
    ("device-no-cuda", ["--device", "cuda"], "CUDA is not available"),
    ("hardware-unknown", ["--hardware", "tpu-v9"], "tpu-v9"),
    ("storage-missing-folder", ["--storage", "sqlite:///{tmp}/missing/x.db"], "does not exist"),
    ("storage-unknown-dialect", ["--storage", "nosuchdb://x"], "cannot open storage"),
    ("storage-not-a-url", ["--storage", "not a url"], "is not a database URL"),
    ("storage-memory", ["--storage", "sqlite:///:memory:"], "names no file"),
    (
        "storage-driver-missing-password",
        ["--storage", f"postgresql://bob:{PASSWORD}@127.0.0.1:1/db"],
        "bob:***@",
    ),
    ("results-dir-is-file", ["--results-dir", "{tmp}/afile"], "is not a folder"),
    ("cache-dir-is-file", ["--cache-dir", "{tmp}/afile/sub"], "is not a folder"),
    ("data-root-missing", ["--study", "r18", "--data-root", "/nonexistent/fm"], "/nonexistent/fm"),
]


@pytest.mark.parametrize(
    ("extra", "message"),
    [case[1:] for case in ARGUMENT_CASES],
    ids=[case[0] for case in ARGUMENT_CASES],
)
def test_bad_arguments(
    tmp_path: Path, check_case: Callable[..., object], extra: list[str], message: str
) -> None:
    (tmp_path / "afile").write_text("not a folder")
    extra = [word.replace("{tmp}", str(tmp_path)) for word in extra]
    check_case(main, _argv(tmp_path, STUDY, *extra), 2, message)


# (id, {section: line}, message)
STUDY_FILE_CASES = [
    ("unknown-key", {"sampler": "temprature = 1.0"}, "unknown key 'sampler.temprature'"),
    ("temperature-nan", {"sampler": "temperature = nan"}, "sampler.temperature must be a finite"),
    ("temperature-inf", {"sampler": "temperature = inf"}, "sampler.temperature must be a finite"),
    ("temperature-negative", {"sampler": "temperature = -1.0"}, "sampler.temperature must be > 0"),
    ("annealing-above-one", {"sampler": "annealing = 2.0"}, "sampler.annealing must be in (0, 1]"),
    ("n-flips-zero", {"sampler": "n_flips = 0"}, "sampler.n_flips must be >= 1"),
    ("n-flips-above-layers", {"sampler": "n_flips = 1000"}, "sampler.n_flips must be at most"),
    ("weights-empty", {"sampler": "latency_weights = []"}, "sampler.latency_weights"),
    ("threshold-above-one", {"sampler": "accuracy_threshold = 2.0"}, "accuracy_threshold"),
    ("sampler-name", {"sampler": 'name = "cmaes"'}, "sampler.name must be one of"),
    ("layer-choice", {"sampler": 'layer_choice = "random"'}, "sampler.layer_choice must be one"),
    (
        "cost-choice-with-size-limit",
        {"sampler": 'layer_choice = "cost"', "search": "max_size_kib = 9000.0"},
        "sampler.layer_choice",
    ),
    ("transfer-share-one", {"sampler": "transfer_share = 1.0"}, "sampler.transfer_share must"),
    (
        "transfers-with-size-limit",
        {"sampler": "transfer_share = 0.2", "search": "max_size_kib = 9000.0"},
        "sampler.transfer_share > 0 cannot be combined",
    ),
    (
        "small-move-share-one",
        {"sampler": "small_move_share = 1.0"},
        "sampler.small_move_share must",
    ),
    (
        "small-moves-one-flip",
        {"sampler": "small_move_share = 0.5"},
        "sampler.small_move_share > 0 needs sampler.n_flips > 1",
    ),
    (
        "scan-without-small-moves",
        {"sampler": 'small_move_order = "scan"'},
        'sampler.small_move_order = "scan" orders the small moves and needs',
    ),
    ("one-bitwidth", {"search": "bits = [4]"}, "search.bits must list at least two"),
    ("bits-out-of-range", {"search": "bits = [1, 4]"}, "search.bits values must be in"),
    ("size-limit-infeasible", {"search": "max_size_kib = 1.0"}, "KiB"),
    ("size-limit-negative", {"search": "max_size_kib = -1.0"}, "search.max_size_kib must be >="),
    ("resolution-one", {"data": "resolution = 1"}, "data.resolution must be 0"),
    ("batch-size-zero", {"data": "batch_size = 0"}, "data.batch_size must be > 0"),
    ("workers-negative", {"data": "num_workers = -1"}, "data.num_workers must be >= 0"),
    ("dataset-unknown", {"data": 'dataset = "mnist2"'}, "unknown dataset 'mnist2'"),
    ("imagenet-no-root", {"data": 'dataset = "imagenet"'}, "imagenet has no default location"),
    ("cifar-missing", {"data": 'dataset = "cifar10"\nroot = "/nonexistent"'}, "cifar10 files"),
    ("momentum-negative", {"baseline": "momentum = -0.5"}, "baseline.momentum must be in [0, 1)"),
    ("decay-negative", {"baseline": "weight_decay = -1.0"}, "baseline.weight_decay must be >="),
    ("lr-nan", {"baseline": "lr = nan"}, "baseline.lr must be a finite number"),
    ("evaluator-mode", {"evaluator": 'mode = "bogus"'}, "evaluator.mode must be one of"),
    ("arch-unknown", {"model": 'arch = "nonet"'}, "nonet"),
    ("checkpoint-missing", {"model": 'weights = "/nonexistent.pt"'}, "/nonexistent.pt"),
    ("name-with-question-mark", {"": 'name = "a?b"'}, "name must be a non-empty name"),
    ("seed-negative-in-file", {"": "seed = -1"}, "seed must be in [0, 2**32 - 1]"),
    ("budget-zero-in-file", {"": "n_trials = 0"}, "n_trials must be > 0"),
    ("toml-syntax", {"sampler": "temperature = = 1"}, "study.toml"),
]


@pytest.mark.parametrize(
    ("edits", "message"),
    [case[1:] for case in STUDY_FILE_CASES],
    ids=[case[0] for case in STUDY_FILE_CASES],
)
def test_bad_study_files(
    tmp_path: Path,
    check_case: Callable[..., object],
    study_with: Callable[..., Path],
    edits: dict[str, str],
    message: str,
) -> None:
    check_case(main, _argv(tmp_path, study_with(edits)), 2, message)


def _fashion_root(tmp_path: Path, content: Callable[[str], bytes]) -> Path:
    root = tmp_path / "fashion"
    root.mkdir()
    for name in FASHION:
        (root / f"{name}.gz").write_bytes(content(name))
    return root


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda name: b"this is not gzip", "is not a valid gzip file"),
        (lambda name: gzip.compress(bytes(range(256)) * 4000)[:-300], "is not a valid gzip file"),
    ],
    ids=["fashion-not-gzip", "fashion-truncated-gzip"],
)
def test_corrupt_fashion_mnist_leaves_no_cache(
    tmp_path: Path,
    check_case: Callable[..., object],
    study_with: Callable[..., Path],
    content: Callable[[str], bytes],
    message: str,
) -> None:
    root = _fashion_root(tmp_path, content)
    study = study_with({"data": f'dataset = "fashion-mnist"\nroot = "{root}"\nresolution = 0'})
    check_case(main, _argv(tmp_path, study), 2, message)


def test_dataset_too_small_for_validation_and_calibration(
    tmp_path: Path, check_case: Callable[..., object], study_with: Callable[..., Path]
) -> None:
    root = _fashion_root(tmp_path, lambda name: b"never read")
    data = f'dataset = "fashion-mnist"\nroot = "{root}"\nresolution = 0\nvalidation_images = 60000'
    # A real study would decompress and train before finding this; it is found first now.
    check_case(main, _argv(tmp_path, study_with({"data": data})), 2, "data.validation_images")


def test_crafted_cifar_pickle_is_refused_without_running_it(
    tmp_path: Path, check_case: Callable[..., object], study_with: Callable[..., Path]
) -> None:
    folder = tmp_path / "cifar" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[object, ...]:
            return (Path.touch, (marker,))

    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(Exploit()))
    study = study_with({"data": f'dataset = "cifar10"\nroot = "{tmp_path / "cifar"}"'})
    check_case(main, _argv(tmp_path, study), 2, "is not a CIFAR batch")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, not a database", "is not an SQLite database"),
        (None, "not an Optuna storage"),
    ],
    ids=["storage-not-sqlite", "storage-not-optuna"],
)
def test_storage_files_that_are_not_studies(
    tmp_path: Path, check_case: Callable[..., object], content: bytes | None, message: str
) -> None:
    path = tmp_path / "other.db"
    if content is None:
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE notes (text TEXT)")
        connection.close()
    else:
        path.write_bytes(content)
    check_case(main, _argv(tmp_path, STUDY, "--storage", f"sqlite:///{path}"), 2, message)


def test_a_study_with_other_settings_is_refused_without_switching_to_wal(
    tmp_path: Path, check_case: Callable[..., object], study_copy: Path
) -> None:
    with sqlite3.connect(study_copy) as connection:  # a rollback-journal file, as old ones are
        connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()
    header = study_copy.read_bytes()[:100]
    argv = _argv(tmp_path, STUDY, "--storage", f"sqlite:///{study_copy}", "--hardware", "eyeriss")
    check_case(main, argv, 2, "already exists in this storage with different settings")
    assert study_copy.read_bytes()[:100] == header
