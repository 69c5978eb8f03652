"""Building a study's parts from its spec: hardware model, network, data and evaluator.

Together with `sampler_factory` and `study_run`, this is the composition root: the only place
that wires the layers below together. Only the command-line modules import it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from amed_opt.study.metrics import Pricing
from amed_opt.study.metrics import reference_pricing
from amed_opt.study.objective import TrialEvaluator
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.spec import AccuracyModel
from amed_opt.study.spec import StudySpec
from amed_opt.study.storage import DEFAULT_TIMINGS
from amed_opt.study.storage import StorageTimings
from hardware import HardwareModel
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset
from hardware import network_latency


if TYPE_CHECKING:
    import torch


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Run-time knobs that are not part of the study (they do not change its results).

    Attributes:
        device: Torch device string for the network (`"cpu"`, `"cuda"`, `"cuda:1"`).
        cache_dir: Folder of decompressed datasets and trained float baselines.
        results_dir: Folder of the default SQLite file, Pareto exports and artifacts.
        progress: Show progress bars.
        max_consecutive_failures: Trials failing in a row after which the run stops (exit 1).
        storage_timings: Heartbeat interval, grace period and SQLite lock timeout of the
            storage (how fast a dead worker's trial is failed and retried).
        on_progress: Called with the study's name and its finished trials (at most the budget)
            when the loop starts and after each trial, for a display that follows several runs
            at once (`python -m amed_opt.compare --workers N`); None: nothing is called.
    """

    device: str = "cpu"
    cache_dir: Path = Path(".cache/amed-opt")
    results_dir: Path = Path("results")
    progress: bool = True
    max_consecutive_failures: int = 3
    storage_timings: StorageTimings = DEFAULT_TIMINGS
    on_progress: Callable[[str, int], None] | None = None


def torch_device(name: str) -> torch.device:
    """The torch device called `name` (`cpu`, `cuda`, `cuda:1`).

    Raises:
        ValueError: If `name` is not a device, or names CUDA where it is not available.
    """
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(f"--device {name!r} is not a torch device; use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was given but CUDA is not available; use --device cpu")
    return device


def build_hardware(spec: StudySpec) -> SystolicArray:
    """The hardware model of the spec's preset.

    Raises:
        FileNotFoundError: If the preset does not exist.
        ValueError: If the preset file is invalid.
    """
    return SystolicArray(load_preset(spec.hardware.preset))


@dataclass(frozen=True, slots=True)
class Components:
    """Everything a study needs besides the storage (see `build_components`).

    Attributes:
        layers: The quantizable layers in network order, shaped as priced (traced at
            `priced_input`).
        hardware: The hardware model.
        hardware_summary: One paragraph describing it.
        evaluator: Measures allocations.
        space: The search space.
        reference: Latency and energy of the uniform 8-bit network.
        max_size_bytes: The weight-size limit, or None.
        baseline_note: Where the accuracy comes from (the float baseline, or SYNTHETIC).
        accuracy_input: `(channels, height, width)` of the images accuracy is measured on.
        priced_input: `(channels, height, width)` of the input latency and energy refer to.
    """

    layers: tuple[LayerShape, ...]
    hardware: HardwareModel
    hardware_summary: str
    evaluator: TrialEvaluator
    space: BitSearchSpace
    reference: Pricing
    max_size_bytes: int | None
    baseline_note: str
    accuracy_input: tuple[int, int, int]
    priced_input: tuple[int, int, int]

    @property
    def reference_latency_ms(self) -> float:
        """Latency of the uniform 8-bit network, in milliseconds."""
        return self.reference.latency_ms

    @property
    def reference_energy_uj(self) -> float | None:
        """Energy of one inference of the uniform 8-bit network in µJ (None: not priced)."""
        return self.reference.energy_uj

    @property
    def inputs_note(self) -> str:
        """Which input the accuracy, and which the latency and energy, refer to."""
        return (
            f"accuracy measured on {_shape_text(self.accuracy_input)} inputs; latency and "
            f"energy priced for {_shape_text(self.priced_input)} inputs"
        )


def _shape_text(shape: tuple[int, int, int]) -> str:
    return "x".join(str(side) for side in shape)


def priced_layers(
    spec: StudySpec, model: Any, accuracy_input: tuple[int, int, int], layers: Sequence[LayerShape]
) -> tuple[tuple[LayerShape, ...], tuple[int, int, int]]:
    """The layers as the hardware prices them, and the input they are traced at.

    `[hardware] input_resolution = 0` prices the network at the input its accuracy is measured
    on (`layers` as they are); another resolution traces the same model again at that size:
    same layers, same names, the shapes of the deployed network.
    """
    side = spec.hardware.input_resolution
    if side == 0 or (side, side) == accuracy_input[1:]:
        return tuple(layers), accuracy_input
    from amed_opt.evaluation.models import quantizable_layers

    shape = (accuracy_input[0], side, side)
    return tuple(quantizable_layers(model, shape)), shape


def build_components(spec: StudySpec, options: RunOptions) -> Components:
    """Build the hardware model, the network, its data and the evaluator.

    Trains the float baseline on first use (cached under `options.cache_dir`).

    Raises:
        FileNotFoundError, ValueError, RuntimeError: From the preset, the data, the model or the
            baseline, with a message naming the problem.
    """
    hardware = build_hardware(spec)
    # Imported here: the torch stack is needed only from this point on, and the CLI can check
    # its cheap arguments (and print errors) without paying for importing torch.

    from amed_opt.evaluation.baseline import build_study_model
    from amed_opt.evaluation.baseline import prepare_study
    from amed_opt.evaluation.data import load_data
    from amed_opt.evaluation.models import quantizable_layers

    device = torch_device(options.device)

    evaluator: TrialEvaluator
    if spec.evaluator.accuracy_model is AccuracyModel.SYNTHETIC:
        from amed_opt.evaluation.synthetic import SyntheticEvaluator

        data = load_data(spec.data, seed=spec.seed, cache_dir=options.cache_dir / "data")
        model = build_study_model(spec, data.info)
        accuracy_input = data.info.input_shape
        layers, priced_input = priced_layers(
            spec, model, accuracy_input, quantizable_layers(model, accuracy_input)
        )
        evaluator = SyntheticEvaluator(layers, hardware, seed=spec.seed)
        baseline_note = (
            "SYNTHETIC accuracy model (amed_opt.evaluation.synthetic): not a measurement"
        )
    else:
        from amed_opt.evaluation.evaluator import Evaluator

        prepared = prepare_study(
            spec, cache_dir=options.cache_dir, device=device, progress=options.progress
        )
        accuracy_input = prepared.data.info.input_shape
        layers, priced_input = priced_layers(
            spec, prepared.baseline.model, accuracy_input, prepared.layers
        )
        measured = Evaluator(
            prepared.baseline.model,
            layers,
            hardware,
            loaders=prepared.loaders,
            spec=spec.evaluator,
            device=device,
            seed=spec.seed,
        )
        evaluator = measured
        baseline_note = (
            f"float baseline ({prepared.baseline.source.value}): validation accuracy "
            f"{measured.float_accuracy:.4f}"
        )
    space = BitSearchSpace(layers, spec.search)
    reference = reference_pricing(hardware, layers)
    if "energy_uj" in spec.objectives and reference.energy_uj is None:
        raise ValueError(
            f"the objective energy_uj needs a hardware model that prices energy; "
            f"{hardware.name} does not"
        )
    max_size = int(spec.search.max_size_kib * 1024) if spec.search.max_size_kib > 0 else None
    return Components(
        layers=tuple(layers),
        hardware=hardware,
        hardware_summary=hardware.config.summary(),
        evaluator=evaluator,
        space=space,
        reference=reference,
        max_size_bytes=max_size,
        baseline_note=baseline_note,
        accuracy_input=accuracy_input,
        priced_input=priced_input,
    )


def simulator_cost_ms(components: Components, repeats: int = 20) -> float:
    # Cold cost of one network on a fresh (unmemoised) model of the same preset: an upper
    # bound on what a trial pays the simulator.
    hardware = SystolicArray(components.hardware.config)  # type: ignore[attr-defined]
    choices = components.space.candidate_bits
    started = time.perf_counter()
    for index in range(repeats):
        bits = choices[index % len(choices)]
        network_latency(hardware, components.layers, [(bits, bits)] * len(components.layers))
    return (time.perf_counter() - started) / repeats * 1e3
