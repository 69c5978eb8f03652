"""Building blocks of the ONNX export: a node/initializer builder and the quantized layers.

`GraphBuilder` collects nodes and initializers under unique names. `emit_layer` writes one
`Conv2d` or `Linear` (quantized or not), with a following eval-mode `BatchNorm2d` folded in:

- the input: `[Clip ->] QuantizeLinear -> DequantizeLinear` at the layer's activation bits,
  per tensor, zero point 0, in `uint<w>` (unsigned) or `int<w>` (signed) where `w` is the
  container width: 2 bits in a 2-bit type, 3-4 in a 4-bit one, 5-8 in an 8-bit one;
- the weight: an integer initializer of that container type (sub-byte types packed) ->
  `DequantizeLinear`, one scale per output channel (axis 0), no zero point (0 by the spec);
  both feed `Conv` or `Gemm` (`transB=1`) with a float32 bias.

Exactness. LSQ computes `s * clamp(round(x / s), q_min, q_max)`, rounding half to even as
`QuantizeLinear` does, which saturates to the container instead: where the ranges differ (signed
LSQ ranges stop at `-(2^(b-1)-1)`, 3/5/6/7 bits are narrower than their container) a `Clip` to
`[s q_min, s q_max]` comes first; `(s q) / s` rounds back to `q` in float32 for |q| <= 255. Left:
torch multiplies by `1 / s` where ONNX divides, and sums convolutions in another order; either
can move a value within float rounding of a tie by one code.

BatchNorm folding. LSQ quantizes the conv weight *before* BatchNorm, so folding must not
requantize: with `k = gamma / sqrt(var + eps)` per output channel, the folded weight is
`k * s_w * q = (|k| s_w) * (sign(k) q)`, i.e. the same integer codes (sign flipped where `k < 0`)
with per-channel scale `|k| s_w`, and the folded bias is `k (b - mean) + beta`. Scales and biases
are computed in float64 and stored as float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from onnx import NodeProto
from onnx import TensorProto
from onnx import helper
from onnx import numpy_helper
from torch import nn

from amed_opt.evaluation.quantization import MIN_STEP
from amed_opt.evaluation.quantization import QuantizedLayer


_CONTAINERS: dict[tuple[int, bool], int] = {
    (2, True): TensorProto.INT2,
    (2, False): TensorProto.UINT2,
    (4, True): TensorProto.INT4,
    (4, False): TensorProto.UINT4,
    (8, True): TensorProto.INT8,
    (8, False): TensorProto.UINT8,
}


def container_width(bits: int) -> int:
    """Bits of the ONNX integer type holding `bits`-bit codes: 2, 4 or 8.

    Raises:
        ValueError: If `bits` is not in [2, 8].
    """
    if not 2 <= bits <= 8:
        raise ValueError(f"bits must be in [2, 8], got {bits}")
    return 2 if bits <= 2 else 4 if bits <= 4 else 8


def container_type(bits: int, *, signed: bool) -> int:
    """The ONNX integer type (`TensorProto.INT4`, ...) that holds `bits`-bit codes."""
    return _CONTAINERS[(container_width(bits), signed)]


def container_range(bits: int, *, signed: bool) -> tuple[int, int]:
    """The range `QuantizeLinear` saturates to in the container of `bits`-bit codes."""
    width = container_width(bits)
    return (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if signed else (0, 2**width - 1)


def type_name(onnx_type: int) -> str:
    """`"int4"` for `TensorProto.INT4`, and so on."""
    return str(TensorProto.DataType.Name(onnx_type)).lower()


@dataclass(frozen=True, slots=True)
class ExportedLayer:
    """How one `Conv2d` or `Linear` was written.

    Attributes:
        name: Module path.
        op: `"Conv"` or `"Gemm"`.
        w_bits: Weight bits, or None for a float (unquantized or float-export) layer.
        a_bits: Input activation bits, or None.
        weight_type: ONNX type of the weight initializer (`"int4"`, `"float"`).
        activation_type: ONNX type of the quantized input (`"uint8"`), or None.
        folded_batchnorm: Module path of the BatchNorm folded into it, or None.
    """

    name: str
    op: str
    w_bits: int | None
    a_bits: int | None
    weight_type: str
    activation_type: str | None
    folded_batchnorm: str | None


class GraphBuilder:
    """Nodes and initializers of one ONNX graph, under unique tensor names."""

    def __init__(self) -> None:
        self.nodes: list[NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._used: set[str] = set()

    def fresh(self, base: str) -> str:
        """A tensor name not used yet, derived from `base`."""
        name, index = base, 1
        while name in self._used:
            name, index = f"{base}_{index}", index + 1
        self._used.add(name)
        return name

    def constant(self, base: str, array: np.ndarray) -> str:
        """Add `array` as an initializer (its dtype decides the ONNX type); return its name."""
        name = self.fresh(base)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(
        self,
        op: str,
        inputs: list[str],
        base: str,
        *,
        doc: str | None = None,
        **attributes: Any,
    ) -> str:
        """Add an `op` node with one output named after `base`; return the output's name."""
        output = self.fresh(base)
        node = helper.make_node(op, inputs, [output], name=output, doc_string=doc, **attributes)
        self.nodes.append(node)
        return output


def _quantize_input(graph: GraphBuilder, x: str, name: str, layer: QuantizedLayer) -> str:
    quantizer = layer.input_quantizer
    if not quantizer.has_step():
        raise ValueError(f"layer {name!r} has no activation step; calibrate the model first")
    bits, signed = quantizer.bits, quantizer.signed
    q_min, q_max = quantizer.q_range
    onnx_type = container_type(bits, signed=signed)
    # The quantizers clamp the step before use; the export must use the same value.
    scale = np.float32(quantizer.step.detach().clamp_min(MIN_STEP).item())
    kind = "signed" if signed else "unsigned"
    doc = f"{bits}-bit {kind} codes [{q_min}, {q_max}] in {type_name(onnx_type)}"
    if container_range(bits, signed=signed) != (q_min, q_max):
        # QuantizeLinear saturates to the container's range; LSQ's is narrower: clamp first.
        bounds = np.float32(scale) * np.array([q_min, q_max], dtype=np.float32)
        lo = graph.constant(f"{name}.input_min", bounds[0].reshape(()))
        hi = graph.constant(f"{name}.input_max", bounds[1].reshape(()))
        x = graph.node("Clip", [x, lo, hi], f"{name}.input_clipped")
    scale_name = graph.constant(f"{name}.input_scale", np.array(scale, dtype=np.float32))
    zero = helper.make_tensor(graph.fresh(f"{name}.input_zero_point"), onnx_type, [], [0])
    graph.initializers.append(zero)
    codes = graph.node("QuantizeLinear", [x, scale_name, zero.name], f"{name}.input_q", doc=doc)
    return graph.node("DequantizeLinear", [codes, scale_name, zero.name], f"{name}.input_dq")


def batchnorm_factors(
    bn: tuple[str, nn.BatchNorm2d] | None, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """`(k, shift)`, float64, with `bn(z) = k * z + shift` per channel in eval mode.

    `bn` is `(module path, module)`; None gives the identity on `channels` channels.

    Raises:
        ValueError: If the BatchNorm keeps no running statistics (it then normalizes by the
            batch's own, which no fixed graph reproduces).
    """
    if bn is None:
        return np.ones(channels), np.zeros(channels)
    name, norm = bn
    if norm.running_mean is None or norm.running_var is None:
        raise ValueError(f"cannot export layer {name!r}: BatchNorm2d without running statistics")
    var, mean = _float64(norm.running_var), _float64(norm.running_mean)
    k = 1.0 / np.sqrt(var + norm.eps)
    shift = -mean * k
    if norm.weight is not None:
        k, shift = k * _float64(norm.weight), shift * _float64(norm.weight)
    if norm.bias is not None:
        shift = shift + _float64(norm.bias)
    return k, shift


def _float64(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().double().numpy()


def _integer_weight(name: str, layer: QuantizedLayer) -> tuple[torch.Tensor, torch.Tensor]:
    """`(codes, step)` of the layer's weight, checked against its fake-quantized weight."""
    quantizer = layer.weight_quantizer
    with torch.no_grad():
        quantizer.ensure_step(layer.weight)
        step = quantizer.step.detach().clamp_min(MIN_STEP)
        q_min, q_max = quantizer.q_range
        # The same arithmetic as the LSQ function (reciprocal, round half to even, clamp).
        codes = torch.clamp(torch.round(layer.weight.detach() * (1.0 / step)), q_min, q_max)
        if not torch.equal(codes * step, layer.quantized_weight()):
            raise RuntimeError(f"layer {name!r}: integer codes do not reproduce its weight")
    return codes, step


def emit_layer(
    graph: GraphBuilder,
    x: str,
    name: str,
    layer: nn.Conv2d | nn.Linear,
    bn: tuple[str, nn.BatchNorm2d] | None,
    *,
    quantized: bool,
) -> tuple[str, ExportedLayer]:
    """Write `layer` (and `bn`, folded) applied to tensor `x`; return the output and a record.

    With `quantized` False, or for a float layer, the float weight is written (BN folded).
    """
    channels = layer.weight.shape[0]
    k, shift = batchnorm_factors(bn, channels)
    bias = np.zeros(channels) if layer.bias is None else _float64(layer.bias)
    bias_name = graph.constant(f"{name}.bias", (k * bias + shift).astype(np.float32))
    kernel_shape = (channels, *([1] * (layer.weight.dim() - 1)))
    w_bits: int | None = None
    a_bits: int | None = None
    activation_type: str | None = None
    if quantized and isinstance(layer, QuantizedLayer):
        x = _quantize_input(graph, x, name, layer)
        a_bits = layer.input_quantizer.bits
        activation_type = type_name(container_type(a_bits, signed=layer.input_quantizer.signed))
        codes, step = _integer_weight(name, layer)
        w_bits = layer.weight_quantizer.bits
        onnx_type = container_type(w_bits, signed=True)
        # A zero `k` zeroes the channel (codes times sign 0); any positive scale represents it.
        scale = np.where(k != 0, np.abs(k), 1.0) * _float64(step).reshape(-1)
        folded = _float64(codes) * np.sign(k).reshape(kernel_shape)
        dtype = helper.tensor_dtype_to_np_dtype(onnx_type)
        weight_name = graph.constant(f"{name}.weight_q", folded.astype(np.int8).astype(dtype))
        scale_name = graph.constant(f"{name}.weight_scale", scale.astype(np.float32))
        q_max = 2 ** (w_bits - 1) - 1
        weight_type = type_name(onnx_type)
        doc = f"{w_bits}-bit signed weight codes [{-q_max}, {q_max}] in {weight_type}"
        weight = graph.node(
            "DequantizeLinear", [weight_name, scale_name], f"{name}.weight", doc=doc, axis=0
        )
    else:
        folded = _float64(layer.weight) * k.reshape(kernel_shape)
        weight = graph.constant(f"{name}.weight", folded.astype(np.float32))
        weight_type = "float"
    op, attributes = (
        ("Conv", conv_attributes(name, layer))
        if isinstance(layer, nn.Conv2d)
        else ("Gemm", {"transB": 1})
    )
    output = graph.node(op, [x, weight, bias_name], bn[0] if bn else name, **attributes)
    exported = ExportedLayer(
        name=name,
        op=op,
        w_bits=w_bits,
        a_bits=a_bits,
        weight_type=weight_type,
        activation_type=activation_type,
        folded_batchnorm=bn[0] if bn else None,
    )
    return output, exported


def conv_attributes(name: str, conv: nn.Conv2d) -> dict[str, Any]:
    """ONNX `Conv` attributes of `conv` (module path `name`).

    Raises:
        ValueError: For a padding mode other than zeros, or an asymmetric `"same"` padding.
    """
    if conv.padding_mode != "zeros":
        raise ValueError(f"cannot export layer {name!r}: padding_mode {conv.padding_mode!r}")
    kernel = [int(v) for v in conv.kernel_size]
    dilation = [int(v) for v in conv.dilation]
    if conv.padding == "valid":
        padding = [0, 0]
    elif conv.padding == "same":
        totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        if any(total % 2 for total in totals):
            raise ValueError(f"cannot export layer {name!r}: asymmetric padding='same'")
        padding = [total // 2 for total in totals]
    else:
        padding = [int(v) for v in conv.padding]
    return {
        "kernel_shape": kernel,
        "strides": [int(v) for v in conv.stride],
        "pads": padding + padding,
        "dilations": dilation,
        "group": int(conv.groups),
    }
