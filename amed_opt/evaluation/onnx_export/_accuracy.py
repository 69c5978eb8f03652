"""Accuracy of an exported file over a data split, and the `export.json` that reports it.

`export_and_measure` is what `python -m amed_opt.export` (and `finetune --export`) does after
the model is ready: write the QDQ file, measure it in onnxruntime against the torch model on
every image of a split, measure the size of the same model in float, and write the two files of
the export folder: `<name>.onnx` and `export.json`. Everything is first written to a temporary
folder; the export folder is only created, and the files only moved in (atomically), once every
step succeeded, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from amed_opt.evaluation.onnx_export._check import open_session
from amed_opt.evaluation.onnx_export._writer import export_float_onnx
from amed_opt.evaluation.onnx_export._writer import export_onnx
from amed_opt.study.bits import BitConfig
from amed_opt.study.files import atomic_write
from amed_opt.study.files import write_json


EXPORT_FILE = "export.json"


@dataclass(frozen=True, slots=True)
class SplitAccuracy:
    """Top-1 accuracy of the torch model and of its ONNX file on the same images.

    Attributes:
        images: Images measured.
        accuracy_torch: Fraction the torch model classifies correctly.
        accuracy_onnxruntime: Fraction the ONNX file (onnxruntime, as written) classifies
            correctly.
        agreement: Fraction of images where both predict the same class.
    """

    images: int
    accuracy_torch: float
    accuracy_onnxruntime: float
    agreement: float


def measure_onnx_accuracy(
    model: nn.Module,
    path: Path,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    threads: int = 0,
) -> SplitAccuracy:
    """Run `model` (on the CPU; put in eval mode) and the ONNX file at `path` on `batches`.

    Args:
        model: The torch model that was exported.
        path: Its ONNX file (one input, one output of logits).
        batches: `(images, labels)` batches, float32 NCHW.
        threads: onnxruntime intra-op threads (0: all cores).

    Raises:
        ValueError: If `batches` is empty or the file has not one input and one output.
    """
    session = open_session(path, threads=threads)
    input_name = session.get_inputs()[0].name
    model.eval()
    images_seen = torch_correct = runtime_correct = same = 0
    with torch.no_grad():
        for images, labels in batches:
            batch = images.detach().cpu().float().contiguous()
            torch_labels = model(batch).argmax(dim=1).numpy()
            runtime_output = np.asarray(session.run(None, {input_name: batch.numpy()})[0])
            runtime_labels = runtime_output.reshape(len(batch), -1).argmax(axis=1)
            truth = labels.cpu().numpy()
            images_seen += len(batch)
            torch_correct += int(np.sum(torch_labels == truth))
            runtime_correct += int(np.sum(runtime_labels == truth))
            same += int(np.sum(torch_labels == runtime_labels))
    if images_seen == 0:
        raise ValueError("no images to measure the export on")
    return SplitAccuracy(
        images=images_seen,
        accuracy_torch=torch_correct / images_seen,
        accuracy_onnxruntime=runtime_correct / images_seen,
        agreement=same / images_seen,
    )


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What `export_and_measure` wrote and measured (`to_dict` is `export.json`).

    Attributes:
        onnx_path: The QDQ file.
        allocation: Bits of every quantized layer, in network order.
        measured: Accuracy and agreement on the measured split.
        onnx_bytes: Size of the QDQ file in bytes.
        float_onnx_bytes: Size of the same model exported in float32 (not kept), in bytes.
        opset: ONNX opset of the file.
        ir_version: ONNX IR version of the file.
    """

    onnx_path: Path
    allocation: BitConfig
    measured: SplitAccuracy
    onnx_bytes: int
    float_onnx_bytes: int
    opset: int
    ir_version: int

    def to_dict(self) -> dict[str, Any]:
        """The documented keys of `export.json` (accuracies are fractions)."""
        return {
            "onnx_file": self.onnx_path.name,
            "allocation": [
                {"name": name, "w_bits": bits.w_bits, "a_bits": bits.a_bits}
                for name, bits in self.allocation.items()
            ],
            "accuracy_torch": self.measured.accuracy_torch,
            "accuracy_onnxruntime": self.measured.accuracy_onnxruntime,
            "agreement": self.measured.agreement,
            "images": self.measured.images,
            "onnx_bytes": self.onnx_bytes,
            "float_onnx_bytes": self.float_onnx_bytes,
            "opset": self.opset,
            "ir_version": self.ir_version,
        }


def check_exportable(model: nn.Module, input_shape: tuple[int, int, int]) -> None:
    """Fail early, before any training, if `model`'s architecture cannot be exported.

    Exports the float model into a temporary folder (seconds for a ResNet-18) and discards it.

    Raises:
        ValueError: Naming the first unsupported layer or function.
    """
    with tempfile.TemporaryDirectory(prefix="amed-export-check-") as folder:
        was_training = model.training
        try:
            export_float_onnx(model.eval(), input_shape, path=Path(folder) / "check.onnx")
        finally:
            model.train(was_training)


def export_and_measure(
    model: nn.Module,
    bits: BitConfig,
    input_shape: tuple[int, int, int],
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    out_dir: Path,
    file_name: str,
    extra: Mapping[str, Any] | None = None,
    threads: int = 0,
) -> ExportReport:
    """Export the calibrated fake-quantized `model` and measure it (see the module docstring).

    Args:
        model: The fake-quantized model, on the CPU (put in eval mode).
        bits: Its allocation (reported in `export.json`).
        input_shape: `(C, H, W)` of one image.
        batches: The split to measure on (the validation split).
        out_dir: The export folder (created at the end; existing files of the same names are
            replaced).
        file_name: Name of the ONNX file in `out_dir`.
        extra: More keys for `export.json` (provenance: study, trial, fine-tuning); they never
            replace a documented key.
        threads: onnxruntime intra-op threads (0: all cores).

    Raises:
        ValueError: As `export_onnx` and `measure_onnx_accuracy`; nothing is written then.
    """
    model.eval()
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="amed-export-") as folder:
        info = export_onnx(model, input_shape, path=Path(folder) / file_name)
        # The float file is only measured: the export folder holds exactly one model.
        float_info = export_float_onnx(model, input_shape, path=Path(folder) / "float.onnx")
        measured = measure_onnx_accuracy(model, info.path, batches, threads=threads)
        report = ExportReport(
            onnx_path=out_dir / file_name,
            allocation=bits,
            measured=measured,
            onnx_bytes=info.file_bytes,
            float_onnx_bytes=float_info.file_bytes,
            opset=info.opset,
            ir_version=info.ir_version,
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(report.onnx_path, lambda path: shutil.copyfile(info.path, path))
    document = report.to_dict()
    document.update({key: value for key, value in (extra or {}).items() if key not in document})
    write_json(out_dir / EXPORT_FILE, document)
    return report
