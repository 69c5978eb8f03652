"""A fake-quantized network as an ONNX QDQ graph with real low-bit weight tensors.

`export_onnx` writes the graph (BatchNorm folded, per-channel INT8/INT4/INT2 weight
initializers with their LSQ scales, activations quantized and dequantized at each layer's
bitwidth); `export_float_onnx` writes the same network in float; `run_onnx` and
`compare_with_torch` run a file in onnxruntime and in ONNX's reference evaluator. Needs the
`export` extra (`pip install amed-opt[export]`: onnx, onnxruntime).
"""

from amed_opt.evaluation.onnx_export._check import AS_WRITTEN
from amed_opt.evaluation.onnx_export._check import Agreement
from amed_opt.evaluation.onnx_export._check import OnnxOutputs
from amed_opt.evaluation.onnx_export._check import RuntimeAgreement
from amed_opt.evaluation.onnx_export._check import compare_with_torch
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
    "INPUT_NAME",
    "IR_VERSION",
    "OPSET",
    "OUTPUT_NAME",
    "Agreement",
    "ExportInfo",
    "ExportedLayer",
    "OnnxOutputs",
    "RuntimeAgreement",
    "compare_with_torch",
    "export_float_onnx",
    "export_onnx",
    "run_onnx",
]
