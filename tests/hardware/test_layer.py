"""`LayerShape`: output sizes (PyTorch's floor), GEMM views, groups and bad input."""

from __future__ import annotations

import pytest

from hardware.layer import GemmShape
from hardware.layer import LayerKind
from hardware.layer import LayerShape


@pytest.mark.parametrize(
    ("input_hw", "kernel", "stride", "padding", "dilation", "expected"),
    [
        ((224, 224), 7, 2, 3, 1, (112, 112)),  # ResNet stem
        ((56, 56), 3, 1, 1, 1, (56, 56)),
        ((56, 56), 3, 2, 1, 1, (28, 28)),
        ((56, 56), 1, 2, 0, 1, (28, 28)),
        ((28, 28), 5, 1, 0, 1, (24, 24)),
        ((17, 20), (3, 5), (2, 3), (0, 1), 1, (8, 6)),  # floor((17-3)/2)+1, floor((22-5)/3)+1
        ((10, 10), 3, 1, 2, 2, (10, 10)),  # dilated: effective kernel 5
        ((7, 7), 3, 2, 1, 1, (4, 4)),  # odd size, floor
    ],
)
def test_conv2d_output_size_follows_pytorch(
    input_hw: tuple[int, int],
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int],
    padding: int | tuple[int, int],
    dilation: int,
    expected: tuple[int, int],
) -> None:
    layer = LayerShape.conv2d(
        "conv",
        in_channels=3,
        out_channels=8,
        input_hw=input_hw,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
    assert (layer.output_h, layer.output_w) == expected
    assert layer.kind is LayerKind.CONV


def test_conv_gemm_view_and_counts() -> None:
    layer = LayerShape.conv2d(
        "c", in_channels=64, out_channels=128, input_hw=(56, 56), kernel=3, stride=2, padding=1
    )
    assert layer.gemm == GemmShape(m=28 * 28, k=3 * 3 * 64, n=128, groups=1)
    assert layer.macs == 28 * 28 * 576 * 128
    assert layer.weight_count == 576 * 128
    assert layer.input_count == 56 * 56 * 64
    assert layer.output_count == 28 * 28 * 128
    assert not layer.is_depthwise


@pytest.mark.parametrize(
    ("channels", "groups", "out_channels", "depthwise", "gemm"),
    [
        (32, 32, 32, True, GemmShape(m=100, k=9, n=1, groups=32)),
        (32, 32, 64, False, GemmShape(m=100, k=9, n=2, groups=32)),  # channel multiplier 2
        (32, 4, 16, False, GemmShape(m=100, k=72, n=4, groups=4)),
    ],
)
def test_grouped_convolution_is_groups_independent_gemms(
    channels: int, groups: int, out_channels: int, depthwise: bool, gemm: GemmShape
) -> None:
    layer = LayerShape.conv2d(
        "g",
        in_channels=channels,
        out_channels=out_channels,
        input_hw=(10, 10),
        kernel=3,
        padding=1,
        groups=groups,
    )
    assert layer.is_depthwise is depthwise
    assert layer.gemm == gemm
    assert layer.macs == gemm.m * gemm.k * gemm.n * groups
    assert layer.weight_count == out_channels * 9 * (channels // groups)


def test_linear_is_a_1x1_convolution_on_a_1x1_input() -> None:
    layer = LayerShape.linear("fc", in_features=512, out_features=1000)
    assert layer.kind is LayerKind.LINEAR
    assert layer.gemm == GemmShape(m=1, k=512, n=1000)
    assert (layer.input_h, layer.output_h, layer.kernel_h) == (1, 1, 1)


def test_layer_shapes_are_hashable_values() -> None:
    a = LayerShape.linear("fc", in_features=8, out_features=4)
    b = LayerShape.linear("fc", in_features=8, out_features=4)
    assert a == b and hash(a) == hash(b)
    assert a != LayerShape.linear("fc2", in_features=8, out_features=4)


@pytest.mark.parametrize(
    ("field", "value"),
    [("in_channels", 0), ("out_channels", -1), ("kernel_h", 0), ("stride_w", 0), ("groups", 0)],
)
def test_non_positive_sizes_are_rejected(field: str, value: int) -> None:
    values = dict(
        name="x",
        kind=LayerKind.CONV,
        in_channels=4,
        out_channels=4,
        input_h=8,
        input_w=8,
        output_h=8,
        output_w=8,
    )
    values[field] = value
    with pytest.raises(ValueError, match=rf"{field} must be a positive integer, got {value}"):
        LayerShape(**values)  # type: ignore[arg-type]


def test_negative_padding_is_rejected() -> None:
    with pytest.raises(ValueError, match="padding_h"):
        LayerShape.conv2d(
            "x", in_channels=1, out_channels=1, input_hw=(8, 8), kernel=3, padding=-1
        )


def test_groups_must_divide_the_channels() -> None:
    with pytest.raises(ValueError, match="divisible by groups"):
        LayerShape.conv2d("x", in_channels=6, out_channels=8, input_hw=(8, 8), kernel=3, groups=4)


def test_kernel_larger_than_the_padded_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        LayerShape.conv2d("x", in_channels=1, out_channels=1, input_hw=(4, 4), kernel=7)
