"""Drop-in quantized `Conv2d` (grouped and depthwise included) and `Linear`.

`QuantConv2d` and `QuantLinear` subclass the float modules, so code that reads `.weight`,
`.stride` or `.groups` keeps working, and `quantizable_layers` sees them as the same layers.
Each holds a `WeightQuantizer` (per output channel, signed) and an `ActivationQuantizer` for its
input (per tensor), and fake-quantizes both in `forward`; BatchNorm and everything else stays in
float (METHOD.md §7).

When no gradient is needed (evaluation), the fake-quantized weight is computed once and reused
until the weight, the step or the bitwidth changes: the cache key holds the tensors' storage
addresses and autograd version counters, which every in-place update (optimizer steps,
`load_state_dict`, `copy_`) increments. Together with the fused activation kernel this keeps a
quantized forward pass close to the float one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from amed_opt.evaluation.quantization._quantizer import ActivationQuantizer
from amed_opt.evaluation.quantization._quantizer import WeightQuantizer
from amed_opt.study.bits import MAX_BITS
from amed_opt.study.bits import LayerBits


_DEFAULT_BITS = LayerBits(MAX_BITS, MAX_BITS)

_CacheKey = tuple[Any, ...]


class QuantizedLayer(nn.Module):
    """What `QuantConv2d` and `QuantLinear` share: quantizers, bits and the weight cache.

    Attributes:
        weight_quantizer: Quantizer of the weight.
        input_quantizer: Quantizer of the layer's input.
        quantization_enabled: When False the layer computes in float (used by calibration).
    """

    weight: torch.Tensor
    weight_quantizer: WeightQuantizer
    input_quantizer: ActivationQuantizer

    def _init_quantizers(self, bits: LayerBits) -> None:
        self.weight_quantizer = WeightQuantizer(self.weight, bits=bits.w_bits)
        self.input_quantizer = ActivationQuantizer(bits=bits.a_bits, device=self.weight.device)
        self.quantization_enabled = True
        self._weight_cache: tuple[_CacheKey, torch.Tensor] | None = None

    @property
    def bits(self) -> LayerBits:
        """The active weight and activation bitwidths."""
        return LayerBits(self.weight_quantizer.bits, self.input_quantizer.bits)

    def set_bits(self, bits: LayerBits) -> None:
        """Select the steps of `bits`; a step used for the first time is initialized.

        The weight step is initialized from the current weight at once; the activation step from
        the calibration sample, at once if there is one, else on the first forward pass.
        """
        if not isinstance(bits, LayerBits):
            raise TypeError(f"bits must be a LayerBits, got {type(bits).__name__}")
        self.weight_quantizer.bits = bits.w_bits
        self.input_quantizer.bits = bits.a_bits
        self.weight_quantizer.ensure_step(self.weight)
        if self.input_quantizer.calibrated:
            self.input_quantizer.ensure_step()

    def quantized_weight(self) -> torch.Tensor:
        """The fake-quantized weight; cached while no gradient is needed."""
        quantizer = self.weight_quantizer
        quantizer.ensure_step(self.weight)
        step = quantizer.step
        if torch.is_grad_enabled() and (self.weight.requires_grad or step.requires_grad):
            return quantizer(self.weight)
        key = (
            self.weight.device,
            self.weight.data_ptr(),
            self.weight._version,
            step.data_ptr(),
            step._version,
            quantizer.bits,
        )
        if self._weight_cache is None or self._weight_cache[0] != key:
            with torch.no_grad():
                self._weight_cache = (key, quantizer(self.weight))
        return self._weight_cache[1]

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> Any:
        # Moving or casting the module replaces the weight's storage; drop the stale cache.
        self._weight_cache = None
        return super()._apply(fn, recurse)


class QuantConv2d(QuantizedLayer, nn.Conv2d):
    """`nn.Conv2d` with LSQ fake quantization of its weight and input.

    Takes `nn.Conv2d`'s arguments plus `bits`. Use `from_float` to wrap an existing layer.

    Args:
        *args: Positional arguments of `nn.Conv2d`.
        bits: Initial weight and activation bitwidths.
        **kwargs: Keyword arguments of `nn.Conv2d`.
    """

    def __init__(self, *args: Any, bits: LayerBits = _DEFAULT_BITS, **kwargs: Any) -> None:
        nn.Conv2d.__init__(self, *args, **kwargs)
        self._init_quantizers(bits)

    @classmethod
    def from_float(cls, conv: nn.Conv2d, bits: LayerBits) -> QuantConv2d:
        """A quantized layer sharing `conv`'s weight and bias tensors."""
        layer = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=conv.bias is not None,
            padding_mode=conv.padding_mode,
            device="meta",
        )
        layer.weight = conv.weight
        layer.bias = conv.bias
        layer._init_quantizers(bits)
        layer.set_bits(bits)
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.quantization_enabled:
            return nn.Conv2d.forward(self, x)
        return self._conv_forward(self.input_quantizer(x), self.quantized_weight(), self.bias)


class QuantLinear(QuantizedLayer, nn.Linear):
    """`nn.Linear` with LSQ fake quantization of its weight and input.

    Args:
        *args: Positional arguments of `nn.Linear`.
        bits: Initial weight and activation bitwidths.
        **kwargs: Keyword arguments of `nn.Linear`.
    """

    def __init__(self, *args: Any, bits: LayerBits = _DEFAULT_BITS, **kwargs: Any) -> None:
        nn.Linear.__init__(self, *args, **kwargs)
        self._init_quantizers(bits)

    @classmethod
    def from_float(cls, linear: nn.Linear, bits: LayerBits) -> QuantLinear:
        """A quantized layer sharing `linear`'s weight and bias tensors."""
        layer = cls(
            linear.in_features, linear.out_features, bias=linear.bias is not None, device="meta"
        )
        layer.weight = linear.weight
        layer.bias = linear.bias
        layer._init_quantizers(bits)
        layer.set_bits(bits)
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.quantization_enabled:
            return nn.Linear.forward(self, x)
        return functional.linear(self.input_quantizer(x), self.quantized_weight(), self.bias)
