"""Layer shapes as an accelerator sees them, and their GEMM view.

A `LayerShape` is the hardware-facing description of one convolution or linear layer at batch
size 1: channel counts, the stored input feature map, the output feature map, kernel, stride,
padding and groups. It is what `amed_opt.models.quantizable_layers` records from a forward pass
and what the SCALE-Sim topology reader produces, so it stores the output size explicitly: PyTorch
floors the output size, SCALE-Sim takes the ceiling, and both must be representable exactly.

The GEMM view follows SCALE-Sim's convention (Samajdar et al., "A Systematic Methodology for
Characterizing Scalability of DNN Accelerators using SCALE-Sim", ISPASS 2020,
https://doi.org/10.1109/ISPASS48437.2020.00016): per group, an `M x K` input matrix (one row per
output pixel, one column per element of a convolution window) times a `K x N` filter matrix
(one column per filter). A grouped or depthwise convolution is `groups` independent GEMMs, which
is how SCALE-Sim runs a depthwise layer (one single-filter layer per channel).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LayerKind(enum.Enum):
    """What kind of layer a `LayerShape` describes."""

    CONV = "conv"
    LINEAR = "linear"


@dataclass(frozen=True, slots=True)
class GemmShape:
    """The matrix-multiply view of a layer, per group.

    Attributes:
        m: Rows of the input matrix: output pixels (`output_h * output_w`).
        k: Reduction length: elements of one convolution window per group
            (`kernel_h * kernel_w * in_channels / groups`).
        n: Columns of the filter matrix: filters per group (`out_channels / groups`).
        groups: Number of independent GEMMs of this size (1 for a dense layer).
    """

    m: int
    k: int
    n: int
    groups: int = 1

    @property
    def macs(self) -> int:
        """Multiply-accumulates of all groups together."""
        return self.m * self.k * self.n * self.groups


@dataclass(frozen=True, slots=True)
class LayerShape:
    """One convolution or linear layer at batch size 1.

    Sizes are in elements (not bytes); spatial sizes are in pixels. Use the `conv2d` and `linear`
    constructors, which derive the output size; construct directly only when the output size is
    known from elsewhere (a forward pass, a SCALE-Sim topology file).

    Attributes:
        name: Identifier, the module path for layers of a PyTorch model (`layer1.0.conv1`).
        kind: Convolution or linear.
        in_channels: Input channels (input features for a linear layer).
        out_channels: Output channels (output features for a linear layer).
        input_h: Height of the stored input feature map, without padding.
        input_w: Width of the stored input feature map, without padding.
        output_h: Height of the output feature map.
        output_w: Width of the output feature map.
        kernel_h: Filter height.
        kernel_w: Filter width.
        stride_h: Vertical stride.
        stride_w: Horizontal stride.
        padding_h: Zero rows added above and below (informational; the output size is explicit).
        padding_w: Zero columns added left and right (informational).
        groups: Convolution groups; `groups == in_channels == out_channels` is depthwise.

    Raises:
        ValueError: If a size is not positive, the padding is negative, or the channels are not
            divisible by `groups`.
    """

    name: str
    kind: LayerKind
    in_channels: int
    out_channels: int
    input_h: int
    input_w: int
    output_h: int
    output_w: int
    kernel_h: int = 1
    kernel_w: int = 1
    stride_h: int = 1
    stride_w: int = 1
    padding_h: int = 0
    padding_w: int = 0
    groups: int = 1

    def __post_init__(self) -> None:
        positive = (
            "in_channels",
            "out_channels",
            "input_h",
            "input_w",
            "output_h",
            "output_w",
            "kernel_h",
            "kernel_w",
            "stride_h",
            "stride_w",
            "groups",
        )
        for field_name in positive:
            value = getattr(self, field_name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"layer {self.name!r}: {field_name} must be a positive integer, got {value!r}"
                )
        for field_name in ("padding_h", "padding_w"):
            value = getattr(self, field_name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"layer {self.name!r}: {field_name} must be a non-negative integer, "
                    f"got {value!r}"
                )
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"layer {self.name!r}: in_channels ({self.in_channels}) and out_channels "
                f"({self.out_channels}) must be divisible by groups ({self.groups})"
            )

    @classmethod
    def conv2d(
        cls,
        name: str,
        *,
        in_channels: int,
        out_channels: int,
        input_hw: tuple[int, int],
        kernel: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
    ) -> LayerShape:
        """A convolution with PyTorch's `nn.Conv2d` semantics (output size floored).

        Raises:
            ValueError: If the (dilated) kernel does not fit the padded input, or a size is
                invalid.
        """
        kernel_h, kernel_w = _pair(kernel)
        stride_h, stride_w = _pair(stride)
        padding_h, padding_w = _pair(padding)
        dilation_h, dilation_w = _pair(dilation)
        input_h, input_w = input_hw
        output_h = (input_h + 2 * padding_h - dilation_h * (kernel_h - 1) - 1) // stride_h + 1
        output_w = (input_w + 2 * padding_w - dilation_w * (kernel_w - 1) - 1) // stride_w + 1
        if output_h <= 0 or output_w <= 0:
            raise ValueError(
                f"layer {name!r}: kernel {kernel_h}x{kernel_w} does not fit the padded input "
                f"{input_h}x{input_w} (padding {padding_h}x{padding_w})"
            )
        return cls(
            name=name,
            kind=LayerKind.CONV,
            in_channels=in_channels,
            out_channels=out_channels,
            input_h=input_h,
            input_w=input_w,
            output_h=output_h,
            output_w=output_w,
            kernel_h=kernel_h,
            kernel_w=kernel_w,
            stride_h=stride_h,
            stride_w=stride_w,
            padding_h=padding_h,
            padding_w=padding_w,
            groups=groups,
        )

    @classmethod
    def linear(cls, name: str, *, in_features: int, out_features: int) -> LayerShape:
        """A fully connected layer: a 1x1 convolution on a 1x1 input, as SCALE-Sim runs it."""
        return cls(
            name=name,
            kind=LayerKind.LINEAR,
            in_channels=in_features,
            out_channels=out_features,
            input_h=1,
            input_w=1,
            output_h=1,
            output_w=1,
        )

    @property
    def is_depthwise(self) -> bool:
        """True for a convolution with one input and one output channel per group (>1 group)."""
        return self.groups > 1 and self.groups == self.in_channels == self.out_channels

    @property
    def gemm(self) -> GemmShape:
        """The per-group GEMM this layer performs (see the module docstring)."""
        return GemmShape(
            m=self.output_h * self.output_w,
            k=self.kernel_h * self.kernel_w * (self.in_channels // self.groups),
            n=self.out_channels // self.groups,
            groups=self.groups,
        )

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one forward pass at batch size 1."""
        return self.gemm.macs

    @property
    def weight_count(self) -> int:
        """Number of weights (bias excluded)."""
        per_filter = self.kernel_h * self.kernel_w * (self.in_channels // self.groups)
        return per_filter * self.out_channels

    @property
    def input_count(self) -> int:
        """Elements of the stored (unpadded) input feature map."""
        return self.input_h * self.input_w * self.in_channels

    @property
    def output_count(self) -> int:
        """Elements of the output feature map."""
        return self.output_h * self.output_w * self.out_channels


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, tuple):
        return value
    return value, value
