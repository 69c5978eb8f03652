"""One finished trial's allocation, ready to fine-tune and export: shared by `finetune` and
`export` so that both read a trial, and write an export, the same way.

`load_trial_allocation` reads the trial from the study's storage without writing to it (a
missing study, an unknown trial or one that is not COMPLETE is a `KeyError`), loads the data and
the float baseline and turns the trial's parameters into bits. `export_trial` rebuilds the
fine-tuned model from its saved state on the CPU and writes `<study>-trial<N>.onnx` and
`export.json` (`amed_opt.evaluation.onnx_export.export_and_measure`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from amed_opt.app.components import RunOptions
from amed_opt.app.components import torch_device
from amed_opt.app.preflight import probe_layers
from amed_opt.app.study_run import storage_url


if TYPE_CHECKING:
    from pathlib import Path

    import torch
    from optuna.trial import FrozenTrial

    from amed_opt.evaluation.baseline import PreparedStudy
    from amed_opt.evaluation.fine_tuning import FinetuneResult
    from amed_opt.evaluation.onnx_export import ExportReport
    from amed_opt.study.bits import BitConfig
    from amed_opt.study.spec import StudySpec


@dataclass(frozen=True, slots=True)
class TrialAllocation:
    """A finished trial of a study with everything needed to train and export it.

    Attributes:
        spec: The study.
        name: Its Optuna study name (`r18-amed-seed0`).
        trial: The COMPLETE trial, as stored.
        prepared: Data, float baseline and quantizable layers.
        bits: The trial's allocation, in network order.
        device: Where to train.
    """

    spec: StudySpec
    name: str
    trial: FrozenTrial
    prepared: PreparedStudy
    bits: BitConfig
    device: torch.device

    @property
    def onnx_file_name(self) -> str:
        """`<study name>-trial<N>.onnx`, the name of the exported model."""
        return f"{self.name}-trial{self.trial.number}.onnx"


def load_trial_allocation(spec: StudySpec, options: RunOptions, number: int) -> TrialAllocation:
    """Read trial `number` of `spec`'s study (read only) and prepare its data and baseline.

    Raises:
        StorageError: If there is no database at the storage URL.
        KeyError: If the study or the trial does not exist, or the trial is not complete.
        ValueError, FileNotFoundError: As `torch_device` and `prepare_study`.
    """
    from amed_opt.evaluation.baseline import prepare_study
    from amed_opt.study.naming import study_name
    from amed_opt.study.search_space import BitSearchSpace
    from amed_opt.study.storage import load_finished_trial

    name = study_name(spec)
    device = torch_device(options.device)
    trial = load_finished_trial(storage_url(spec, options), name, number)
    # The trial's params must fit the network before the data is decompressed or a baseline
    # trained (probe_layers builds the network without data).
    BitSearchSpace(probe_layers(spec), spec.search).to_bits(trial.params)
    prepared = prepare_study(spec, cache_dir=options.cache_dir, device=device)
    bits = BitSearchSpace(prepared.layers, spec.search).to_bits(trial.params)
    return TrialAllocation(spec, name, trial, prepared, bits, device)


def check_trial_exportable(selected: TrialAllocation) -> None:
    """Raise `ValueError` (naming the layer) now, before any training, if the network has a
    layer the ONNX exporter does not support."""
    from amed_opt.evaluation.onnx_export import check_exportable

    check_exportable(selected.prepared.baseline.model, selected.prepared.data.info.input_shape)


def export_trial(selected: TrialAllocation, result: FinetuneResult, out_dir: Path) -> ExportReport:
    """Export the model `finetune` saved for `selected` into `out_dir` and measure it on the
    validation split (see `export_and_measure`); `out_dir` is created only on success."""
    import torch

    from amed_opt.evaluation.fine_tuning import restore_quantized
    from amed_opt.evaluation.onnx_export import export_and_measure

    cpu = torch.device("cpu")
    # onnxruntime runs on the CPU, so the torch side does too (`quantize_model` copies the
    # baseline first: it stays where it is).
    model = restore_quantized(
        selected.prepared.baseline.model, result.bits, result.state_path, device=cpu
    )
    return export_and_measure(
        model,
        result.bits,
        selected.prepared.data.info.input_shape,
        selected.prepared.loaders.validation,
        out_dir=out_dir,
        file_name=selected.onnx_file_name,
        extra={
            "study": selected.name,
            "trial": selected.trial.number,
            "split": "validation",
            "finetune_epochs": result.epochs,
            "finetune_recipe": result.recipe.to_dict(),
            "validation_accuracy_before": result.validation_accuracy_before,
            "float_validation_accuracy": result.float_validation_accuracy,
            "test_accuracy_torch": result.test_accuracy,
        },
    )
