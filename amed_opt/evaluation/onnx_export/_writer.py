"""ONNX export of a fake-quantized model as a QDQ graph with real low-bit weight tensors.

`export_onnx(model, (C, H, W), path=...)` traces an eval-mode model with `torch.fx` (quantized
layers are leaves), writes one ONNX node group per fx node, checks the result with
`onnx.checker` and saves it. The ONNX model computes the same function as the torch model, up
to float32 rounding (see `_graph` for the exact arithmetic and its one caveat):

- `QuantConv2d` / `QuantLinear`: input `[Clip ->] QuantizeLinear -> DequantizeLinear` at the
  layer's activation bits (per tensor), integer weight initializer (`int2` for 2 bits, `int4`
  for 3-4, `int8` for 5-8; sub-byte types are stored packed) `-> DequantizeLinear` (per output
  channel), then `Conv` / `Gemm`. The true widths are in each Q/DQ node's `doc_string` and in
  the model's `metadata_props` (`amed_opt.layers`, JSON).
- A `BatchNorm2d` that is the only consumer of a conv is folded into it (exactly; no
  requantization); any other `BatchNorm2d` becomes a per-channel `Mul` + `Add`.
- Float `Conv2d` / `Linear`, `ReLU`, `ReLU6` / `Hardtanh`, `MaxPool2d`, `AvgPool2d`,
  `AdaptiveAvgPool2d` (to 1x1 or an integer divisor of the input), `Flatten` / `torch.flatten`
  (from dimension 1), residual `+`, `Dropout` and `Identity` (eval mode: identities). This covers
  torchvision's ResNets and MobileNetV2. Anything else raises `ValueError` naming the layer.

`export_float_onnx` writes the same graph without quantization (float weights, BN folded): the
model as `quantization_disabled` runs it, and the size reference for the low-bit file.

The file targets opset 25 (the first with `int2`/`uint2` Q/DQ) and IR version 13, the newest
that onnxruntime 1.31 loads. Sizes are in bytes; the input is NCHW float32 with a free batch.
onnxruntime reproduces the torch model with its graph optimizations off; its QDQ rewrites change
or reject low-bit graphs (`AS_WRITTEN` says how), so `run_onnx` runs the file as written.
Models over protobuf's 2 GiB limit are not supported (no external data).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import onnx
import torch
from onnx import TensorProto
from onnx import helper
from torch import fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from amed_opt.evaluation.onnx_export._graph import ExportedLayer
from amed_opt.evaluation.onnx_export._graph import GraphBuilder
from amed_opt.evaluation.onnx_export._graph import emit_layer
from amed_opt.evaluation.onnx_export._ops import Context
from amed_opt.evaluation.onnx_export._ops import emit_other
from amed_opt.evaluation.onnx_export._ops import foldable_batchnorm
from amed_opt.evaluation.quantization import QuantConv2d
from amed_opt.evaluation.quantization import QuantizedLayer
from amed_opt.evaluation.quantization import QuantLinear
from amed_opt.evaluation.quantization import quantization_disabled


OPSET = 25
"""ONNX opset of exported files: `int2`/`uint2` QuantizeLinear/DequantizeLinear need 25."""

IR_VERSION = 13
"""ONNX IR version of exported files: onnx 1.23 defaults to 14, which onnxruntime 1.31 refuses."""

INPUT_NAME = "input"
OUTPUT_NAME = "output"

_LAYERS = (nn.Conv2d, QuantConv2d, nn.Linear, QuantLinear)
"""Exact module types written by `emit_layer` (a subclass may override `forward`)."""


@dataclass(frozen=True, slots=True)
class ExportInfo:
    """What `export_onnx` / `export_float_onnx` wrote.

    Attributes:
        path: The ONNX file.
        file_bytes: Its size in bytes.
        quantized: True for the QDQ export, False for the float one.
        opset: Default-domain opset.
        ir_version: ONNX IR version.
        input_name: Name of the graph input, float32 `(batch, C, H, W)`.
        output_name: Name of the graph output.
        input_shape: `(C, H, W)` of one image.
        layers: Every `Conv2d` and `Linear`, in graph order.
    """

    path: Path
    file_bytes: int
    quantized: bool
    opset: int
    ir_version: int
    input_name: str
    output_name: str
    input_shape: tuple[int, int, int]
    layers: tuple[ExportedLayer, ...]


def export_onnx(model: nn.Module, input_shape: tuple[int, int, int], *, path: Path) -> ExportInfo:
    """Write `model` (eval mode, calibrated) as a QDQ ONNX graph with low-bit weights.

    Args:
        model: A float or fake-quantized model (`amed_opt.evaluation.quantization.quantize_model`).
        input_shape: `(channels, height, width)` of one input image.
        path: Destination file (overwritten).

    Raises:
        ValueError: If the model is in training mode, cannot be traced, uses a layer or
            function that is not supported (the message names it), or a quantized layer is not
            calibrated.
    """
    return _export(model, input_shape, Path(path), quantized=True)


def export_float_onnx(
    model: nn.Module, input_shape: tuple[int, int, int], *, path: Path
) -> ExportInfo:
    """Write `model` in float32 (BatchNorm folded, no quantization), as `export_onnx` would.

    The graph computes what `model` computes under `quantization_disabled`.

    Raises:
        ValueError: As `export_onnx`.
    """
    return _export(model, input_shape, Path(path), quantized=False)


class _Tracer(fx.Tracer):
    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        # A quantized layer's forward has data-dependent checks; it is exported as one unit.
        return isinstance(module, QuantizedLayer) or super().is_leaf_module(module, qualified_name)


def _trace(model: nn.Module, input_shape: tuple[int, int, int]) -> fx.GraphModule:
    try:
        graph = _Tracer().trace(model)
    except Exception as error:  # fx raises many types (TraceError, TypeError, ...).
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"cannot trace {type(model).__name__} with torch.fx: {message}"
        ) from error
    module = fx.GraphModule(model, graph)
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    # Shapes only; quantization off so an uncalibrated layer is reported by name later.
    with torch.no_grad(), quantization_disabled(model):
        ShapeProp(module).propagate(torch.zeros((1, *input_shape), device=device))
    return module


def _export(
    model: nn.Module, input_shape: tuple[int, int, int], path: Path, *, quantized: bool
) -> ExportInfo:
    if len(input_shape) != 3 or any(int(v) <= 0 for v in input_shape):
        raise ValueError(f"input_shape must be (channels, height, width) > 0, got {input_shape}")
    training = [name or type(model).__name__ for name, m in model.named_modules() if m.training]
    if training:
        raise ValueError(f"the model must be in eval mode; {training[0]!r} is training")
    shape = (int(input_shape[0]), int(input_shape[1]), int(input_shape[2]))
    traced = _trace(model, shape)
    graph = GraphBuilder()
    env: dict[fx.Node, str] = {}
    layers: list[ExportedLayer] = []
    folded: set[fx.Node] = set()
    context = Context(graph, env, traced)
    output: str | None = None
    output_shape: tuple[int, ...] = ()
    for node in traced.graph.nodes:
        if node in folded:
            continue
        if node.op == "placeholder":
            if env:
                raise ValueError(f"the model takes more than one input ({node.name!r})")
            env[node] = graph.fresh(INPUT_NAME)
        elif node.op == "output":
            result = node.args[0]
            if not isinstance(result, fx.Node):
                raise ValueError("the model must return a single tensor")
            output = graph.node("Identity", [env[result]], OUTPUT_NAME)
            output_shape = tuple(int(v) for v in result.meta["tensor_meta"].shape)
        elif node.op == "call_module" and type(traced.get_submodule(str(node.target))) in _LAYERS:
            layers.append(_emit_layer_node(context, node, folded, quantized=quantized))
        else:
            env[node] = emit_other(context, node)
    assert output is not None, "an fx graph always has an output node"
    # The batch dimension is free; the rest are the traced shapes.
    input_info = helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", *shape])
    output_info = helper.make_tensor_value_info(
        output, TensorProto.FLOAT, ["batch", *output_shape[1:]]
    )
    onnx_graph = helper.make_graph(
        graph.nodes, type(model).__name__, [input_info], [output_info], graph.initializers
    )
    proto = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="amed_opt",
        doc_string="QDQ low-bit export" if quantized else "float export",
    )
    proto.ir_version = IR_VERSION
    helper.set_model_props(proto, _metadata(layers, shape))
    onnx.checker.check_model(proto, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed: an interrupted export leaves no partial file.
    partial = path.with_name(f".{path.name}.partial")
    onnx.save_model(proto, str(partial))
    os.replace(partial, path)
    return ExportInfo(
        path=path,
        file_bytes=path.stat().st_size,
        quantized=quantized,
        opset=OPSET,
        ir_version=IR_VERSION,
        input_name=INPUT_NAME,
        output_name=OUTPUT_NAME,
        input_shape=shape,
        layers=tuple(layers),
    )


def _arg(node: fx.Node) -> fx.Node:
    """The single tensor input of a module call."""
    if len(node.args) != 1 or node.kwargs or not isinstance(node.args[0], fx.Node):
        raise ValueError(f"layer {node.target!r} must be called with exactly one tensor")
    return node.args[0]


def _emit_layer_node(
    context: Context, node: fx.Node, folded: set[fx.Node], *, quantized: bool
) -> ExportedLayer:
    """Write a Conv2d/Linear call, folding a BatchNorm that only it feeds (added to `folded`)."""
    layer = context.traced.get_submodule(str(node.target))
    assert isinstance(layer, nn.Conv2d | nn.Linear)
    source = _arg(node)
    bn: tuple[str, nn.BatchNorm2d] | None = None
    bn_node = foldable_batchnorm(context.traced, node) if isinstance(layer, nn.Conv2d) else None
    if bn_node is not None:
        module = context.traced.get_submodule(str(bn_node.target))
        assert isinstance(module, nn.BatchNorm2d)
        bn = (str(bn_node.target), module)
    if isinstance(layer, nn.Linear) and len(source.meta["tensor_meta"].shape) != 2:
        raise ValueError(f"layer {node.target!r} (Linear) must take a 2-D input")
    output, record = emit_layer(
        context.graph, context.env[source], str(node.target), layer, bn, quantized=quantized
    )
    context.env[node] = output
    if bn_node is not None:
        context.env[bn_node] = output
        folded.add(bn_node)
    return record


def _metadata(layers: list[ExportedLayer], shape: tuple[int, int, int]) -> dict[str, str]:
    table = {
        layer.name: {
            "op": layer.op,
            "w_bits": layer.w_bits,
            "a_bits": layer.a_bits,
            "weight_type": layer.weight_type,
            "activation_type": layer.activation_type,
            "folded_batchnorm": layer.folded_batchnorm,
        }
        for layer in layers
    }
    return {
        "amed_opt.layers": json.dumps(table),
        "amed_opt.input_shape": json.dumps(list(shape)),
    }
