"""What the study shows in optuna-dashboard: a Markdown note and per-trial allocation images.

The note describes the study, the data, the model and the hardware. For every trial that reaches
the Pareto front when it finishes, an image of its per-layer bit allocation (weights as bars,
activations as markers, each layer's share of the latency as a line, memory-bound layers hatched)
is uploaded as a trial artifact, the way the AMED paper's Figure S5 shows allocations, and the
trial gets a note with the commands that fine-tune and export it (`trial_note`). The dashboard
serves artifacts when started with `--artifact-dir` (the runner prints the command).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.artifacts import upload_artifact
from optuna.trial import TrialState

from amed_opt.study.pareto import RunningFront
from amed_opt.study.pareto import is_feasible


if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from amed_opt.study.bits import BitConfig
    from amed_opt.study.metrics import TrialMetrics
    from amed_opt.study.spec import StudySpec
    from hardware.layer import LayerShape


def dashboard_command(storage_url: str, artifact_dir: Path) -> str:
    """The shell command that opens this study's storage and artifacts in optuna-dashboard.

    A URL with a password is not printed: the command reads it from `$AMED_OPT_STORAGE`.
    """
    import shlex

    from amed_opt.study.urls import shell_storage

    return (
        f"optuna-dashboard {shell_storage(storage_url)} "
        f"--artifact-dir {shlex.quote(str(artifact_dir))}"
    )


def command_arguments(spec: StudySpec, storage_url: str) -> str:
    """The options that select this study in `amed_opt.finetune` and `amed_opt.export`.

    A password in `storage_url` is masked (`***`): the note is shown to every dashboard user.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        shown = make_url(storage_url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = storage_url
    return (
        f"--study {spec.name} --sampler {spec.sampler.name.value} --seed {spec.seed} "
        f"--storage {shown}"
    )


def trial_note(arguments: str, study_name: str, number: int) -> str:
    """A Pareto trial's Markdown note: the commands that fine-tune and export its allocation.

    Args:
        arguments: `command_arguments` of the study.
        study_name: The Optuna study name (names the export folder).
        number: The trial number.
    """
    out = f"results/export/{study_name}-trial{number}"
    return "\n".join(
        [
            f"# Trial {number}: fine-tune and export",
            "",
            "Fine-tune for two epochs, then export the ONNX file and `export.json` "
            "(docs/finetune.md):",
            "",
            "```",
            f"python -m amed_opt.finetune {arguments} --trial {number} --epochs 2 --export {out}",
            "```",
            "",
            "Export the allocation as searched (calibrated, not fine-tuned):",
            "",
            "```",
            f"python -m amed_opt.export {arguments} --trial {number} --out {out}",
            "```",
        ]
    )


def study_note(
    spec: StudySpec,
    *,
    hardware_summary: str,
    layers: Sequence[LayerShape],
    reference_latency_ms: float,
    sampler_description: str,
    reference_energy_uj: float | None = None,
    inputs_note: str = "",
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
        "- Objectives: "
        + ", ".join(
            f"`{name}` ({'maximize' if name == 'accuracy' else 'minimize'})"
            for name in spec.objectives
        )
        + f"; uniform 8-bit latency {reference_latency_ms:.4f} ms"
        + (
            f", energy {reference_energy_uj:.1f} µJ per inference"
            if reference_energy_uj is not None
            else ""
        ),
        f"- Inputs: {inputs_note}" if inputs_note else "",
        "",
        "## Hardware",
        hardware_summary,
        "",
        "## Reading the trials",
        "User attributes: `bits` (per layer, network order; `w/a` where they differ), "
        "`latency_cycles`, `energy_uj`, `size_bytes`, `cycles_by_layer`, "
        "`memory_bound_layers`; AMED trials "
        "also carry their chain and MH decision (`mh_*`). Pareto trials have an image of their "
        "allocation under Artifacts.",
    ]
    return "\n".join(lines)


_BAR = (76, 114, 176)
_BAR_MEMORY = (196, 78, 82)
_ACTIVATION = (221, 132, 82)
_SHARE = (85, 168, 104)
_INK = (40, 40, 40)
_GRID = (225, 225, 225)


def render_allocation_png(
    bits: BitConfig,
    layers: Sequence[LayerShape],
    cycles_by_layer: Mapping[str, int] | None,
    memory_bound: Iterable[str],
    *,
    title: str,
) -> bytes:
    """A PNG chart of a per-layer allocation (see the module docstring).

    Drawn with Pillow rather than matplotlib: it runs inside trials, where matplotlib's ~0.4 s
    per figure would cost more than the sampler, the storage and the simulator together.
    Weight bits are bars (red where the layer is memory-bound), activation bits are dots, and
    the green line is each layer's share of the network's cycles.
    """
    from PIL import Image
    from PIL import ImageDraw

    names = [layer.name for layer in layers]
    memory_bound = set(memory_bound)
    step, left, right, top, plot_h = 16, 40, 50, 34, 180
    label_h = 6 * max(len(name) for name in names) + 10
    width = max(left + right + step * len(names), 380)
    height = top + plot_h + label_h + 46
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 8), title, fill=_INK)

    def y_of(bit: float) -> float:
        return top + plot_h - plot_h * bit / 8

    for bit in range(0, 9, 2):
        draw.line([(left, y_of(bit)), (width - right, y_of(bit))], fill=_GRID)
        draw.text((left - 14, y_of(bit) - 6), str(bit), fill=_INK)
    share = _shares(names, cycles_by_layer)
    top_share = max(share, default=0.0) or 1.0
    line: list[tuple[float, float]] = []
    for index, name in enumerate(names):
        x0 = left + index * step + 2
        color = _BAR_MEMORY if name in memory_bound else _BAR
        draw.rectangle([x0, y_of(bits[name].w_bits), x0 + step - 4, y_of(0)], fill=color)
        cx, cy = x0 + (step - 4) / 2, y_of(bits[name].a_bits)
        draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=_ACTIVATION)
        line.append((cx, top + plot_h - plot_h * share[index] / top_share))
    # All layer names in one strip, rotated once: per-label images cost more than the chart.
    # rotate(90) turns the strip's rows into columns left to right, top row first, so the rows
    # are drawn in network order: each label ends up under its own bar.
    strip = Image.new("RGB", (label_h, step * len(names)), "white")
    strip_draw = ImageDraw.Draw(strip)
    for index, name in enumerate(names):
        strip_draw.text((label_h - 6 * len(name) - 4, index * step + 2), name, fill=_INK)
    image.paste(strip.rotate(90, expand=True), (left, int(y_of(0)) + 4))
    if cycles_by_layer and len(line) > 1:
        draw.line(line, fill=_SHARE, width=2)
        draw.text((width - right + 4, top - 4), f"{top_share:.0%}", fill=_SHARE)
        draw.text((width - right + 4, y_of(0) - 10), "0%", fill=_SHARE)
    legend = (
        ("bars: weight bits (red: memory-bound layer)", _BAR),
        ("dots: activation bits", _ACTIVATION),
        ("line: layer's share of the network's cycles", _SHARE),
    )
    for row, (text, color) in enumerate(legend):
        draw.text((left, height - 42 + 13 * row), text, fill=color)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _shares(names: Sequence[str], cycles_by_layer: Mapping[str, int] | None) -> list[float]:
    if not cycles_by_layer:
        return [0.0] * len(names)
    total = sum(cycles_by_layer.values()) or 1
    return [cycles_by_layer.get(name, 0) / total for name in names]


class ParetoArtifacts:
    """Uploads an allocation image for each trial that enters the running Pareto front.

    Pass it to `Objective(on_measured=...)`: the image must be attached while the trial runs.

    The front is kept in memory (seeded from the storage on resume), so each trial costs a scan
    of the front, not of the history.

    Args:
        artifact_dir: Folder of the file-system artifact store.
        layers: All quantizable layers, in network order.
        existing: Trials already in the study (for resume).
        command_arguments: `command_arguments(spec, url)`: when given, each such trial also
            gets a note with its fine-tune and export commands (`trial_note`).
    """

    def __init__(
        self,
        artifact_dir: Path,
        layers: Sequence[LayerShape],
        existing: Iterable[FrozenTrial],
        *,
        command_arguments: str | None = None,
    ) -> None:
        artifact_dir.mkdir(parents=True, exist_ok=True)
        self._store = FileSystemArtifactStore(str(artifact_dir))
        self._layers = tuple(layers)
        self._arguments = command_arguments
        self._front = RunningFront()
        for trial in existing:
            if trial.state == TrialState.COMPLETE and is_feasible(trial):
                self._front.add((trial.values[0], trial.values[1]))

    def __call__(
        self, trial: optuna.Trial, metrics: TrialMetrics, bits: BitConfig, *, feasible: bool = True
    ) -> bool:
        """Upload the image (and the note) if `trial` is feasible and not dominated so far; True
        when uploaded."""
        if not feasible:
            return False
        if not self._front.add((float(metrics.accuracy), float(metrics.latency_ms))):
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
        if self._arguments is not None:
            from optuna_dashboard import save_note

            # A few storage writes, only for trials that enter the front.
            save_note(trial, trial_note(self._arguments, trial.study.study_name, trial.number))
        return True
