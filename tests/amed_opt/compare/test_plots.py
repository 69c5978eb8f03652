"""Each figure is a PNG written to its path, also for an analysis with nothing in it yet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from amed_opt.compare._plots import plot_allocations
from amed_opt.compare._plots import plot_best_q
from amed_opt.compare._plots import plot_chains
from amed_opt.compare._plots import plot_fronts
from amed_opt.compare._plots import plot_hypervolume
from amed_opt.compare._types import Analysis


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOTS = [plot_hypervolume, plot_fronts, plot_best_q, plot_allocations, plot_chains]


@pytest.mark.filterwarnings("ignore:No artists with labels found to put in legend")
@pytest.mark.parametrize("plot", PLOTS, ids=lambda plot: plot.__name__)
def test_each_figure_is_a_png_at_its_path(
    plot: Callable[[Analysis, Path], Path],
    analysis: Analysis,
    analysis_of: Callable[..., Analysis],
    tmp_path: Path,
) -> None:
    path = plot(analysis, tmp_path / "figures" / "figure.png")
    assert path == tmp_path / "figures" / "figure.png"
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    empty = plot(analysis_of(), tmp_path / "empty.png")
    assert empty.read_bytes().startswith(PNG_SIGNATURE)
