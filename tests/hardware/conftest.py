"""Shared fixtures of the hardware tests: reference networks built from layer shapes (no torch)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.layer import LayerShape


@pytest.fixture(scope="session")
def resnet18() -> Callable[..., list[LayerShape]]:
    """Builds torchvision's ResNet-18 layers: `resnet18(input_hw=224, in_channels=3)`."""
    return _resnet18_layers


def _resnet18_layers(input_hw: int = 224, in_channels: int = 3) -> list[LayerShape]:
    """The 21 convolution and linear layers of torchvision's ResNet-18, in forward order."""
    layers: list[LayerShape] = []

    def conv(name: str, cin: int, cout: int, kernel: int, stride: int, pad: int, hw: int) -> int:
        layer = LayerShape.conv2d(
            name,
            in_channels=cin,
            out_channels=cout,
            input_hw=(hw, hw),
            kernel=kernel,
            stride=stride,
            padding=pad,
        )
        layers.append(layer)
        return layer.output_h

    hw = conv("conv1", in_channels, 64, 7, 2, 3, input_hw)
    hw = (hw + 2 - 3) // 2 + 1  # max pool 3x3, stride 2, padding 1
    cin = 64
    for stage, (width, first_stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), 1):
        for block in range(2):
            stride = first_stride if block == 0 else 1
            out_hw = conv(f"layer{stage}.{block}.conv1", cin, width, 3, stride, 1, hw)
            conv(f"layer{stage}.{block}.conv2", width, width, 3, 1, 1, out_hw)
            if stride != 1 or cin != width:
                conv(f"layer{stage}.{block}.downsample.0", cin, width, 1, stride, 0, hw)
            cin, hw = width, out_hw
    layers.append(LayerShape.linear("fc", in_features=512, out_features=1000))
    return layers
