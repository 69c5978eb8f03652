"""Study files (`spec_toml`): every shipped study loads; bad files fail with the file, key and
reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amed_opt.samplers import Boundary
from amed_opt.study.spec import ChainWeights
from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.spec import LayerChoice
from amed_opt.study.spec import ProposalBoundary
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SpecError
from amed_opt.study.spec import StudySpec
from amed_opt.study.spec import available_studies
from amed_opt.study.spec import load_spec
from amed_opt.study.spec import parse_spec


MINIMAL = {"name": "tiny", "model": {"arch": "resnet18"}}


@pytest.mark.parametrize("name", ["r18", "r50", "mbv2"])
def test_shipped_studies_load(name: str) -> None:
    spec = load_spec(name)
    assert isinstance(spec, StudySpec)
    assert spec.name == name
    assert spec.data.dataset == "fashion-mnist"
    assert spec.storage.url == ""  # the runner's default SQLite file
    assert name in available_studies()


def test_defaults_fill_missing_sections_and_enums_are_parsed() -> None:
    spec = parse_spec({**MINIMAL, "evaluator": {"mode": "shared"}, "sampler": {"name": "tpe"}})
    assert spec.evaluator.mode is EvaluatorMode.SHARED
    assert spec.sampler.name is SamplerName.TPE
    assert spec.search.bits == (2, 3, 4, 5, 6, 7, 8)
    assert spec.to_dict()["evaluator"]["mode"] == "shared"


def test_spec_enums_mirror_the_sampler_ones() -> None:
    # The spec needs no optuna, so it names the sampler's choices itself; the runner maps them by
    # value, which must therefore match.
    assert [b.value for b in ProposalBoundary] == [b.value for b in Boundary]


def test_boundary_is_read_as_its_enum() -> None:
    assert parse_spec(MINIMAL).sampler.boundary is ProposalBoundary.FORCED
    spec = parse_spec({**MINIMAL, "sampler": {"boundary": "lazy"}})
    assert spec.sampler.boundary is ProposalBoundary.LAZY


def test_layer_choice_is_read_as_its_enum() -> None:
    assert parse_spec(MINIMAL).sampler.layer_choice is LayerChoice.UNIFORM
    spec = parse_spec({**MINIMAL, "sampler": {"layer_choice": "cost"}})
    assert spec.sampler.layer_choice is LayerChoice.COST


def test_chain_weights_are_read_as_their_enum() -> None:
    assert parse_spec(MINIMAL).sampler.chain_weights is ChainWeights.FIXED
    sampler = {"chain_weights": "uniform-front", "start": "best-uniform"}
    spec = parse_spec({**MINIMAL, "sampler": sampler})
    assert spec.sampler.chain_weights is ChainWeights.UNIFORM_FRONT


def test_integers_are_accepted_where_floats_are_expected() -> None:
    spec = parse_spec({**MINIMAL, "sampler": {"latency_weights": [1, 0.5]}})
    assert spec.sampler.latency_weights == (1.0, 0.5)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({**MINIMAL, "n_trails": 3}, "unknown key 'n_trails'"),
        ({**MINIMAL, "data": {"batchsize": 3}}, r"unknown key 'data.batchsize' in \[data\]"),
        ({"name": "tiny"}, "missing required key 'model'"),
        ({**MINIMAL, "n_trials": "10"}, "n_trials must be an integer, got str"),
        ({**MINIMAL, "n_trials": 0}, "n_trials must be > 0"),
        ({**MINIMAL, "seed": True}, "seed must be an integer, got bool"),
        ({**MINIMAL, "model": "resnet18"}, r"\[model\] must be a table"),
        ({**MINIMAL, "search": {"bits": [8, 4]}}, "search.bits must be strictly increasing"),
        ({**MINIMAL, "search": {"bits": [1, 4]}}, r"search.bits values must be in \[2, 8\]"),
        ({**MINIMAL, "search": {"bits": 4}}, "search.bits must be a list"),
        ({**MINIMAL, "search": {"bits": [2, "4"]}}, r"search.bits\[1\] must be an integer"),
        (
            {**MINIMAL, "evaluator": {"mode": "lazy"}},
            "evaluator.mode must be one of shared, fresh",
        ),
        ({**MINIMAL, "sampler": {"temperature": 0}}, "sampler.temperature must be > 0"),
        (
            {**MINIMAL, "sampler": {"boundary": "reflect"}},
            "sampler.boundary must be one of forced, lazy",
        ),
        (
            {**MINIMAL, "sampler": {"layer_choice": "random"}},
            "sampler.layer_choice must be one of uniform, cost",
        ),
        (
            {**MINIMAL, "sampler": {"layer_choice": "cost"}, "search": {"max_size_kib": 100}},
            "sampler.layer_choice = .cost. cannot be combined with search.max_size_kib",
        ),
        ({**MINIMAL, "sampler": {"transfer_share": 1.0}}, r"sampler.transfer_share must be in"),
        (
            {**MINIMAL, "sampler": {"transfer_share": 0.2}, "search": {"max_size_kib": 100}},
            "sampler.transfer_share > 0 cannot be combined with search.max_size_kib",
        ),
        (
            {**MINIMAL, "sampler": {"small_move_share": -0.5, "n_flips": 5}},
            r"sampler.small_move_share must be in \[0, 1\)",
        ),
        (
            {**MINIMAL, "sampler": {"small_move_share": 0.5}},
            "sampler.small_move_share > 0 needs sampler.n_flips > 1",
        ),
        (
            {**MINIMAL, "sampler": {"small_move_order": "scan", "n_flips": 5}},
            'sampler.small_move_order = "scan" .* needs sampler.small_move_share > 0',
        ),
        (
            {**MINIMAL, "sampler": {"small_move_order": "sweep"}},
            "sampler.small_move_order must be one of drawn, scan",
        ),
        ({**MINIMAL, "sampler": {"latency_weights": []}}, "sampler.latency_weights"),
        (
            {**MINIMAL, "sampler": {"chain_weights": "uniform-front"}},
            'sampler.chain_weights .* set sampler.start = "best-uniform"',
        ),
        ({**MINIMAL, "name": "a b"}, "name must be a non-empty name"),
        (
            {**MINIMAL, "search": {"max_size_kib": float("nan")}},
            "search.max_size_kib must be a finite",
        ),
        (
            {**MINIMAL, "baseline": {"lr": float("inf")}},
            "baseline.lr must be a finite number, got inf",
        ),
        ({**MINIMAL, "baseline": {"momentum": -0.5}}, r"baseline.momentum must be in \[0, 1\)"),
        ({**MINIMAL, "data": {"resolution": 1}}, "data.resolution must be 0 .* or >= 8"),
        ({**MINIMAL, "search": {"fixed_bits": 9}}, r"search.fixed_bits must be in \[2, 8\]"),
        ({**MINIMAL, "model": {"arch": ""}}, "model.arch must not be empty"),
    ],
)
def test_bad_values_name_the_key_and_reason(table: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        parse_spec(table, source="study.toml")
    assert str(caught.value).startswith("study.toml: ")
    assert caught.value.source == "study.toml"


def test_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[model]\narch = "resnet18"\nepochs = 3\n')
    with pytest.raises(SpecError, match=rf"{path}: unknown key 'model.epochs'"):
        load_spec(str(path))
    path.write_text("name = \n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(str(path))


def test_unknown_study_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="r18"):
        load_spec("no-such-study")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_spec(str(tmp_path / "missing.toml"))


def test_range_errors_of_a_section_name_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "cold.toml"
    path.write_text('name = "x"\n[model]\narch = "resnet18"\n[sampler]\ntemperature = 0\n')
    message = "sampler.temperature must be > 0, got 0"
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: {message}"):
        load_spec(str(path))


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf"])
def test_non_finite_toml_numbers_are_rejected(tmp_path: Path, literal: str) -> None:
    path = tmp_path / "odd.toml"
    path.write_text(
        f'name = "x"\n[model]\narch = "resnet18"\n[search]\nmax_size_kib = {literal}\n'
    )
    message = "search.max_size_kib must be a finite number"
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: {message}"):
        load_spec(str(path))
