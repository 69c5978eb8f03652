"""`describe_sampler`: the one line that names the sampler's settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from amed_opt.study.naming import describe_sampler
from amed_opt.study.spec import LayerChoice
from amed_opt.study.spec import SmallMoveOrder
from amed_opt.study.spec_toml import load_spec


STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"


def test_the_amed_line_names_the_chains_the_moves_and_the_transfers() -> None:
    spec = load_spec(str(STUDY))
    line = describe_sampler(spec)
    assert line.startswith("AMED Metropolis-Hastings, 2 chain(s) with latency weights [0.5, 2]")
    assert "transfers" not in line and "about one layer" not in line
    sampler = dataclasses.replace(
        spec.sampler,
        layer_choice=LayerChoice.COST,
        n_flips=5,
        transfer_share=0.25,
        small_move_share=0.5,
    )
    line = describe_sampler(dataclasses.replace(spec, sampler=sampler))
    assert (
        "about 5 layer(s) per proposal, chosen by latency saved, 50% of the proposals about one "
        "layer, 25% of the proposals transfers between two layers" in line
    )
    scanning = dataclasses.replace(sampler, small_move_order=SmallMoveOrder.SCAN)
    line = describe_sampler(dataclasses.replace(spec, sampler=scanning))
    assert "50% of the proposals one layer, the layers in turn, 25% of the proposals" in line
