"""A fake-quantized network as an ONNX QDQ graph with real low-bit weight tensors.

`export_onnx` writes the graph (BatchNorm folded, per-channel INT8/INT4/INT2 weight
initializers with their LSQ scales, activations quantized and dequantized at each layer's
bitwidth); `export_float_onnx` writes the same network in float; `run_onnx` and
`compare_with_torch` run a file in onnxruntime and in ONNX's reference evaluator;
`export_and_measure` writes a file with its `export.json` (accuracy in torch and onnxruntime,
agreement, sizes). Needs the
`export` extra (`pip install amed-opt[export]`: onnx, onnxruntime).
"""

from amed_opt.evaluation.onnx_export._accuracy import EXPORT_FILE
from amed_opt.evaluation.onnx_export._accuracy import ExportReport
from amed_opt.evaluation.onnx_export._accuracy import SplitAccuracy
from amed_opt.evaluation.onnx_export._accuracy import check_exportable
from amed_opt.evaluation.onnx_export._accuracy import export_and_measure
from amed_opt.evaluation.onnx_export._accuracy import measure_onnx_accuracy
from amed_opt.evaluation.onnx_export._check import AS_WRITTEN
from amed_opt.evaluation.onnx_export._check import Agreement
from amed_opt.evaluation.onnx_export._check import OnnxOutputs
from amed_opt.evaluation.onnx_export._check import RuntimeAgreement
from amed_opt.evaluation.onnx_export._check import compare_with_torch
from amed_opt.evaluation.onnx_export._check import open_session
from amed_opt.evaluation.onnx_export._check import run_onnx
from amed_opt.evaluation.onnx_export._writer import INPUT_NAME
from amed_opt.evaluation.onnx_export._writer import IR_VERSION
from amed_opt.evaluation.onnx_export._writer import OPSET
from amed_opt.evaluation.onnx_export._writer import OUTPUT_NAME
from amed_opt.evaluation.onnx_export._writer import ExportedLayer
from amed_opt.evaluation.onnx_export._writer import ExportInfo
from amed_opt.evaluation.onnx_export._writer import export_float_onnx
from amed_opt.evaluation.onnx_export._writer import export_onnx


__all__ = [
    "AS_WRITTEN",
    "EXPORT_FILE",
    "INPUT_NAME",
    "IR_VERSION",
    "OPSET",
    "OUTPUT_NAME",
    "Agreement",
    "ExportInfo",
    "ExportReport",
    "ExportedLayer",
    "OnnxOutputs",
    "RuntimeAgreement",
    "SplitAccuracy",
    "check_exportable",
    "compare_with_torch",
    "export_and_measure",
    "export_float_onnx",
    "export_onnx",
    "measure_onnx_accuracy",
    "open_session",
    "run_onnx",
]
