"""Run an exported ONNX file in onnxruntime and in ONNX's reference evaluator; compare to torch.

`run_onnx` feeds one float32 NCHW batch to onnxruntime's CPU provider and, optionally, to
`onnx.reference.ReferenceEvaluator` (the numpy implementation of the spec: slow, but it checks
the file against the standard rather than against one runtime). `compare_with_torch` adds the
torch model's output on the same batch and summarises the agreement, so a caller can report
accuracy of the exported file or check that it matches the fake-quantized model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch
from onnx.reference import ReferenceEvaluator
from torch import nn


AS_WRITTEN = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
"""The default optimization level: none. onnxruntime 1.31 rewrites QDQ graphs for its integer
kernels, which changes what they compute: from the basic level on it quantizes each float
Conv/Gemm bias feeding from Q/DQ to int32 at scale `s_x * s_w` (`WeightBiasQuantization`; at 2-4
bits this moves outputs by whole quantization steps), and from the extended level on it fuses
`DequantizeLinear -> Conv -> QuantizeLinear` into `QLinearConv`, which has no 4- or 2-bit
kernel (the session then fails to load) and rejects 2/4-bit zero points after a `Clip`."""


@dataclass(frozen=True, slots=True)
class OnnxOutputs:
    """The outputs of one batch.

    Attributes:
        onnxruntime: onnxruntime's output, float32 `(batch, ...)`.
        reference: The reference evaluator's output, or None when it was not run.
    """

    onnxruntime: np.ndarray
    reference: np.ndarray | None


@dataclass(frozen=True, slots=True)
class RuntimeAgreement:
    """How closely one runtime's outputs match the torch model's.

    Attributes:
        max_abs_diff: Largest |torch - runtime| over all outputs.
        matching_images: Fraction of images whose outputs all lie within the tolerance.
        argmax_agreement: Fraction of images whose argmax class is the same.
    """

    max_abs_diff: float
    matching_images: float
    argmax_agreement: float


@dataclass(frozen=True, slots=True)
class Agreement:
    """How closely an ONNX file reproduces the torch model on one batch.

    A quantized network is discontinuous: summing a convolution in another order can move a
    value lying within float rounding of a rounding tie to the next code, and later layers
    amplify that step. Deep low-bit networks therefore match exactly on most images and differ
    visibly on a few; `matching_images` counts the former.

    Attributes:
        images: Batch size.
        output_scale: Largest |output| of the torch model.
        tolerance: Largest |difference| counted as matching: `rtol * output_scale`.
        onnxruntime: onnxruntime against torch.
        reference: The reference evaluator against torch, or None if it was not run.
    """

    images: int
    output_scale: float
    tolerance: float
    onnxruntime: RuntimeAgreement
    reference: RuntimeAgreement | None


def open_session(
    path: Path,
    *,
    threads: int = 1,
    optimization_level: onnxruntime.GraphOptimizationLevel = AS_WRITTEN,
) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session of the file at `path`, run as written by default.

    Args:
        path: An ONNX file with one input and one output (as `export_onnx` writes).
        threads: onnxruntime intra-op threads (0: onnxruntime's default, all cores).
        optimization_level: onnxruntime's graph optimizations (see `AS_WRITTEN`).

    Raises:
        ValueError: If the file does not have exactly one input and one output.
    """
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = optimization_level
    session = onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    if len(session.get_inputs()) != 1 or len(session.get_outputs()) != 1:
        raise ValueError(f"{path}: expected one input and one output")
    return session


def run_onnx(
    path: Path,
    images: np.ndarray | torch.Tensor,
    *,
    reference: bool = True,
    threads: int = 1,
    optimization_level: onnxruntime.GraphOptimizationLevel = AS_WRITTEN,
) -> OnnxOutputs:
    """Run the ONNX file at `path` on `images` (float32 NCHW).

    Args:
        path: An ONNX file with one input and one output (as `export_onnx` writes).
        images: The batch.
        reference: Also run `onnx.reference.ReferenceEvaluator`.
        threads: onnxruntime intra-op threads (0: onnxruntime's default, all cores).
        optimization_level: onnxruntime's graph optimizations; the default, none, runs the
            graph as written (see `AS_WRITTEN`).

    Raises:
        ValueError: If the file does not have exactly one input and one output.
    """
    batch = _as_array(images)
    session = open_session(path, threads=threads, optimization_level=optimization_level)
    inputs = session.get_inputs()
    runtime_output = np.asarray(session.run(None, {inputs[0].name: batch})[0])
    reference_output = None
    if reference:
        evaluator = ReferenceEvaluator(onnx.load(str(path)))
        results = evaluator.run(None, {inputs[0].name: batch})
        assert isinstance(results, list), "run returns a dict only for intermediate=True"
        reference_output = np.asarray(results[0])
    return OnnxOutputs(onnxruntime=runtime_output, reference=reference_output)


def compare_with_torch(
    model: nn.Module,
    path: Path,
    images: np.ndarray | torch.Tensor,
    *,
    rtol: float = 1e-4,
    reference: bool = True,
    threads: int = 1,
    optimization_level: onnxruntime.GraphOptimizationLevel = AS_WRITTEN,
) -> Agreement:
    """Compare the ONNX file's outputs with `model`'s (eval mode, no gradient) on `images`.

    Args:
        model: The torch model that was exported (on the CPU).
        path: The ONNX file.
        images: A float32 NCHW batch.
        rtol: Matching tolerance relative to the largest |torch output| in the batch.
        reference: Also compare the reference evaluator's outputs.
        threads: onnxruntime intra-op threads.
        optimization_level: onnxruntime's graph optimizations (default none).
    """
    batch = _as_array(images)
    with torch.no_grad():
        expected = model(torch.from_numpy(batch)).numpy().reshape(len(batch), -1)
    outputs = run_onnx(
        path, batch, reference=reference, threads=threads, optimization_level=optimization_level
    )
    scale = float(np.max(np.abs(expected)))
    tolerance = rtol * scale

    def agreement(actual: np.ndarray) -> RuntimeAgreement:
        diff = np.abs(actual.reshape(len(batch), -1).astype(np.float64) - expected)
        labels = actual.reshape(len(batch), -1).argmax(axis=1)
        return RuntimeAgreement(
            max_abs_diff=float(diff.max()),
            matching_images=float(np.mean(diff.max(axis=1) <= tolerance)),
            argmax_agreement=float(np.mean(labels == expected.argmax(axis=1))),
        )

    return Agreement(
        images=len(batch),
        output_scale=scale,
        tolerance=tolerance,
        onnxruntime=agreement(outputs.onnxruntime),
        reference=None if outputs.reference is None else agreement(outputs.reference),
    )


def _as_array(images: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    batch = np.ascontiguousarray(images, dtype=np.float32)
    if batch.ndim != 4:
        raise ValueError(f"images must be an NCHW batch, got shape {batch.shape}")
    return batch
