"""What the study shows in optuna-dashboard: a Markdown note and per-trial allocation images.

The note describes the study, the data, the model and the hardware. For every trial that reaches
the Pareto front when it finishes, an image of its per-layer bit allocation (weights as bars,
activations as markers, each layer's share of the latency as a line, memory-bound layers hatched)
is uploaded as a trial artifact, the way the AMED paper's Figure S5 shows allocations. The
dashboard serves artifacts when started with `--artifact-dir` (the runner prints the command).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.artifacts import upload_artifact
from optuna.trial import TrialState


if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from amed_opt.bits import BitConfig
    from amed_opt.objective import Metrics
    from amed_opt.spec import StudySpec
    from hardware.layer import LayerShape


def dashboard_command(storage_url: str, artifact_dir: Path) -> str:
    """The shell command that opens this study's storage and artifacts in optuna-dashboard."""
    return f"optuna-dashboard {storage_url} --artifact-dir {artifact_dir}"


def study_note(
    spec: StudySpec,
    *,
    hardware_summary: str,
    layers: Sequence[LayerShape],
    reference_latency_ms: float,
    sampler_description: str,
) -> str:
    """The study's Markdown note for the dashboard."""
    total_macs = sum(layer.macs for layer in layers)
    total_weights = sum(layer.weight_count for layer in layers)
    data = spec.data
    lines = [
        f"# {spec.name}",
        "",
        spec.description or "",
        "",
        "## Search",
        f"- Model: `{spec.model.arch}` ({len(layers)} quantizable layers, "
        f"{total_weights / 1e6:.2f} M weights, {total_macs / 1e6:.1f} M MACs per image)",
        f"- Data: `{data.dataset}`; trials are scored on {data.validation_images} validation "
        "images held out from the training set (the test split is kept for final reports)",
        f"- Candidate bits per layer: {list(spec.search.bits)}; first and last layer fixed at "
        f"{spec.search.fixed_bits} bits",
        f"- Evaluator: `{spec.evaluator.mode.value}` mode, "
        f"{spec.evaluator.steps_per_trial} QAT steps per trial",
        f"- Sampler: {sampler_description}",
        f"- Objectives: `accuracy` (maximize), `latency_ms` (minimize); uniform 8-bit latency "
        f"{reference_latency_ms:.4f} ms",
        "",
        "## Hardware",
        hardware_summary,
        "",
        "## Reading the trials",
        "User attributes: `bits` (per layer, network order; `w/a` where they differ), "
        "`latency_cycles`, `size_bytes`, `cycles_by_layer`, `memory_bound_layers`; AMED trials "
        "also carry their chain and MH decision (`mh_*`). Pareto trials have an image of their "
        "allocation under Artifacts.",
    ]
    return "\n".join(lines)


def render_allocation_png(
    bits: BitConfig,
    layers: Sequence[LayerShape],
    cycles_by_layer: dict[str, int] | None,
    memory_bound: Iterable[str],
    *,
    title: str,
) -> bytes:
    """A PNG bar chart of a per-layer allocation (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = [layer.name for layer in layers]
    positions = list(range(len(names)))
    memory_bound = set(memory_bound)
    figure, axis = plt.subplots(figsize=(max(6.0, 0.28 * len(names) + 2), 3.6), dpi=100)
    try:
        axis.bar(
            positions,
            [bits[name].w_bits for name in names],
            color="#4c72b0",
            hatch=["//" if name in memory_bound else "" for name in names],
            edgecolor="white",
            label="weight bits (hatched: memory-bound)",
        )
        axis.plot(
            positions,
            [bits[name].a_bits for name in names],
            "o",
            color="#dd8452",
            markersize=4,
            label="activation bits",
        )
        axis.set_ylim(0, 9)
        axis.set_ylabel("bits")
        axis.set_xticks(positions)
        axis.set_xticklabels(names, rotation=90, fontsize=6)
        if cycles_by_layer:
            total = sum(cycles_by_layer.values()) or 1
            share = axis.twinx()
            share.plot(
                positions,
                [100 * cycles_by_layer.get(n, 0) / total for n in names],
                color="#55a868",
                linewidth=1.2,
                label="share of latency %",
            )
            share.set_ylabel("share of latency (%)")
            share.set_ylim(bottom=0)
            share.legend(loc="upper right", fontsize=7)
        axis.legend(loc="upper left", fontsize=7)
        axis.set_title(title, fontsize=9)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


class ParetoArtifacts:
    """Uploads an allocation image for each trial that enters the running Pareto front.

    The front is kept in memory (seeded from the storage on resume), so each trial costs a scan
    of the front, not of the history.

    Args:
        artifact_dir: Folder of the file-system artifact store.
        layers: All quantizable layers, in network order.
        existing: Trials already in the study (for resume).
    """

    def __init__(
        self, artifact_dir: Path, layers: Sequence[LayerShape], existing: Iterable[FrozenTrial]
    ) -> None:
        artifact_dir.mkdir(parents=True, exist_ok=True)
        self._store = FileSystemArtifactStore(str(artifact_dir))
        self._layers = tuple(layers)
        self._front: list[tuple[float, float]] = []
        for trial in existing:
            feasible = all(value <= 0 for value in trial.constraints.values())
            if trial.state == TrialState.COMPLETE and feasible:
                self._insert(trial.values[0], trial.values[1])

    def _dominated(self, accuracy: float, latency_ms: float) -> bool:
        return any(
            acc >= accuracy and lat <= latency_ms and (acc, lat) != (accuracy, latency_ms)
            for acc, lat in self._front
        )

    def _insert(self, accuracy: float, latency_ms: float) -> bool:
        if self._dominated(accuracy, latency_ms):
            return False
        self._front = [
            (acc, lat)
            for acc, lat in self._front
            if not (accuracy >= acc and latency_ms <= lat and (acc, lat) != (accuracy, latency_ms))
        ]
        self._front.append((accuracy, latency_ms))
        return True

    def record(self, trial: optuna.Trial, metrics: Metrics, bits: BitConfig) -> bool:
        """Upload the image if `trial` is not dominated so far; True when uploaded.

        Infeasible trials (a violated constraint already set on the trial) are never uploaded.
        """
        constraints = trial.storage.get_trial(trial._trial_id).constraints
        if any(value > 0 for value in constraints.values()):
            return False
        if not self._insert(float(metrics.accuracy), float(metrics.latency_ms)):
            return False
        png = render_allocation_png(
            bits,
            self._layers,
            dict(metrics.cycles_by_layer),
            metrics.memory_bound_layers,
            title=f"trial {trial.number}: accuracy {metrics.accuracy:.2%}, "
            f"latency {metrics.latency_ms:.4f} ms, {metrics.size_bytes / 1024:.1f} KiB",
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"allocation_trial_{trial.number}.png"
            path.write_bytes(png)
            upload_artifact(
                artifact_store=self._store,
                file_path=str(path),
                study_or_trial=trial,
                mimetype="image/png",
            )
        return True
