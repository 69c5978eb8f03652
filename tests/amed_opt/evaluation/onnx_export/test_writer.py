"""ONNX export: low-bit QDQ files reproduce the fake-quantized torch model in onnxruntime."""

# The module needs the `export` extra; without it the tests are skipped, hence late imports.
# ruff: noqa: E402

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto
from onnx import numpy_helper
from torch import nn

from amed_opt.evaluation.models import build_model
from amed_opt.evaluation.models import quantizable_layers
from amed_opt.evaluation.onnx_export import IR_VERSION
from amed_opt.evaluation.onnx_export import OPSET
from amed_opt.evaluation.onnx_export import compare_with_torch
from amed_opt.evaluation.onnx_export import export_float_onnx
from amed_opt.evaluation.onnx_export import export_onnx
from amed_opt.evaluation.onnx_export import run_onnx
from amed_opt.evaluation.quantization import calibrate
from amed_opt.evaluation.quantization import quantization_disabled
from amed_opt.evaluation.quantization import quantize_model
from amed_opt.evaluation.quantization import recalibrate_batchnorm
from amed_opt.evaluation.quantization import set_bits
from amed_opt.study.bits import LayerBits
from amed_opt.study.spec import ModelSpec


CPU = torch.device("cpu")
SHAPE = (1, 12, 12)

MIXED = {
    "stem": LayerBits(8, 8),
    "down": LayerBits(2, 2),
    "depthwise": LayerBits(3, 3),
    "pointwise": LayerBits(4, 5),
    "fc": LayerBits(5, 3),
}
"""Every container and a narrowed range in each: int8, int2/uint2, int4/uint4 (3 bits), int4 with
uint8 (5 bits), int8 with a signed 3-bit input in int4."""


class ResidualNet(nn.Module):
    """Conv-BN-ReLU, a strided conv, depthwise + ReLU6, a pointwise conv added to a skip, pools."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(8)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.down_bn = nn.BatchNorm2d(16)
        self.depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.depthwise_bn = nn.BatchNorm2d(16)
        self.act = nn.ReLU6()
        self.pointwise = nn.Conv2d(16, 16, 1)
        self.pointwise_bn = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem_bn(self.stem(x)))
        skip = nn.functional.relu(self.down_bn(self.down(x)))
        y = self.act(self.depthwise_bn(self.depthwise(skip)))
        # No ReLU after the sum: the head's input is signed.
        y = self.pool(self.pointwise_bn(self.pointwise(y)) + skip)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1))


def _batches(count: int, size: int, shape: tuple[int, ...], seed: int) -> list:
    generator = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(size, *shape, generator=generator), torch.zeros(size)) for _ in range(count)
    ]


def _residual_net() -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = ResidualNet()
        with torch.no_grad():
            for bn in model.modules():
                if isinstance(bn, nn.BatchNorm2d):
                    assert bn.running_mean is not None and bn.running_var is not None
                    # Negative gammas flip the integer signs when BatchNorm is folded.
                    bn.weight.uniform_(-1.5, 1.5)
                    bn.bias.uniform_(-0.5, 0.5)
                    bn.running_mean.uniform_(-0.2, 0.2)
                    bn.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.fixture(scope="module")
def _calibrated_mixed_model() -> nn.Module:
    # Calibration's step search is most of a test's time: done once, copied per test.
    model = quantize_model(_residual_net(), MIXED)
    calibrate(model, _batches(1, 8, SHAPE, seed=1), device=CPU)
    return model


@pytest.fixture
def mixed_model(_calibrated_mixed_model: nn.Module) -> nn.Module:
    """`ResidualNet` quantized at `MIXED` bits and calibrated on random images, eval mode."""
    return copy.deepcopy(_calibrated_mixed_model)


def _images(count: int, shape: tuple[int, ...] = SHAPE, seed: int = 2) -> torch.Tensor:
    return torch.randn(count, *shape, generator=torch.Generator().manual_seed(seed))


def test_mixed_model_matches_torch_in_onnxruntime_and_reference(
    mixed_model: nn.Module, tmp_path: Path
) -> None:
    info = export_onnx(mixed_model, SHAPE, path=tmp_path / "mixed.onnx")
    agreement = compare_with_torch(mixed_model, info.path, _images(32))
    assert agreement.output_scale > 0.01
    assert agreement.reference is not None
    for runtime in (agreement.onnxruntime, agreement.reference):
        # Within 1e-4 of the output scale: the same integer codes everywhere (a code moved
        # across a rounding tie by float summation order would cost one image, see Agreement).
        assert runtime.matching_images >= 31 / 32
        assert runtime.argmax_agreement >= 31 / 32
    assert [layer.folded_batchnorm for layer in info.layers] == [
        "stem_bn",
        "down_bn",
        "depthwise_bn",
        "pointwise_bn",
        None,
    ]


def test_weights_and_activations_use_the_expected_containers(
    mixed_model: nn.Module, tmp_path: Path
) -> None:
    info = export_onnx(mixed_model, SHAPE, path=tmp_path / "mixed.onnx")
    proto = onnx.load(str(info.path))
    onnx.checker.check_model(proto, full_check=True)
    assert (proto.ir_version, proto.opset_import[0].version) == (IR_VERSION, OPSET)
    initializers = {tensor.name: tensor for tensor in proto.graph.initializer}
    weight_types = {name: initializers[f"{name}.weight_q"].data_type for name in MIXED}
    assert weight_types == {
        "stem": TensorProto.INT8,
        "down": TensorProto.INT2,
        "depthwise": TensorProto.INT4,
        "pointwise": TensorProto.INT4,
        "fc": TensorProto.INT8,
    }
    # The network's input and the head's input are signed; the others follow a ReLU.
    input_types = {name: initializers[f"{name}.input_zero_point"].data_type for name in MIXED}
    assert input_types == {
        "stem": TensorProto.INT8,
        "down": TensorProto.UINT2,
        "depthwise": TensorProto.UINT4,
        "pointwise": TensorProto.UINT8,
        "fc": TensorProto.INT4,
    }
    # Codes stay in the LSQ range of the true width, BatchNorm's sign flips included.
    for name, bits in MIXED.items():
        codes = numpy_helper.to_array(initializers[f"{name}.weight_q"]).astype(np.int32)
        q_max = 2 ** (bits.w_bits - 1) - 1
        assert codes.min() >= -q_max and codes.max() <= q_max
        assert codes.min() == -q_max or codes.max() == q_max
    table = json.loads({p.key: p.value for p in proto.metadata_props}["amed_opt.layers"])
    assert {name: (row["w_bits"], row["a_bits"]) for name, row in table.items()} == {
        name: (bits.w_bits, bits.a_bits) for name, bits in MIXED.items()
    }
    docs = {node.name: node.doc_string for node in proto.graph.node}
    assert docs["depthwise.weight"] == "3-bit signed weight codes [-3, 3] in int4"
    assert docs["depthwise.input_q"] == "3-bit unsigned codes [0, 7] in uint4"


def test_low_bit_file_is_smaller_than_8_bit_and_float(
    mixed_model: nn.Module, tmp_path: Path
) -> None:
    mixed = export_onnx(mixed_model, SHAPE, path=tmp_path / "mixed.onnx")
    float_file = export_float_onnx(mixed_model, SHAPE, path=tmp_path / "float.onnx")
    set_bits(mixed_model, {name: LayerBits(8, 8) for name in MIXED})
    eight = export_onnx(mixed_model, SHAPE, path=tmp_path / "eight.onnx")
    assert mixed.file_bytes < eight.file_bytes < float_file.file_bytes
    assert {layer.weight_type for layer in float_file.layers} == {"float"}


def test_float_export_matches_the_unquantized_model(
    mixed_model: nn.Module, tmp_path: Path
) -> None:
    info = export_float_onnx(mixed_model, SHAPE, path=tmp_path / "float.onnx")
    assert not info.quantized
    with quantization_disabled(mixed_model):
        agreement = compare_with_torch(mixed_model, info.path, _images(16), reference=False)
    assert agreement.onnxruntime.max_abs_diff < 1e-5 * agreement.output_scale


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("bits", range(2, 9))
def test_every_width_clamps_and_rounds_as_lsq(bits: int, signed: bool, tmp_path: Path) -> None:
    shape = (1, 4, 4)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(bits)
        model = nn.Sequential(nn.Flatten(), nn.Linear(16, 6)).eval()
    quantized = quantize_model(model, {"1": LayerBits(bits, bits)})
    calibration = _batches(1, 32, shape, seed=3)
    if not signed:
        calibration = [(images.abs(), labels) for images, labels in calibration]
    calibrate(quantized, calibration, device=CPU)
    # Three times the calibration range: most inputs are clamped at one end or the other.
    images = 3 * _images(64, shape, seed=4)
    info = export_onnx(quantized, shape, path=tmp_path / "linear.onnx")
    width = {2: 2, 3: 4, 4: 4}.get(bits, 8)
    assert info.layers[0].activation_type == f"{'' if signed else 'u'}int{width}"
    with torch.no_grad():
        expected = quantized(images).numpy()
    outputs = run_onnx(info.path, images)
    assert outputs.reference is not None
    scale = np.abs(expected).max()
    assert np.abs(outputs.onnxruntime - expected).max() < 1e-5 * scale
    assert np.abs(outputs.reference - expected).max() < 1e-5 * scale


class _Zoo(nn.Module):
    """The other supported layers: 'same' padding with dilation, a BatchNorm no conv feeds."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding="same", dilation=2)
        self.conv_bn = nn.BatchNorm2d(4)
        self.loose_bn = nn.BatchNorm2d(4)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.drop = nn.Dropout(0.5)
        self.keep = nn.Identity()
        self.adaptive = nn.AdaptiveAvgPool2d((3, 3))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(36, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.loose_bn(nn.functional.relu6(self.conv_bn(self.conv(x))))
        x = self.adaptive(self.keep(self.drop(self.avg(x))))
        return self.fc(self.flatten(x).relu())


def test_pools_flatten_identities_and_a_loose_batchnorm_match(tmp_path: Path) -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        model = _Zoo().eval()
        with torch.no_grad():
            model.loose_bn.weight.uniform_(-1.0, 1.0)
    quantized = quantize_model(model, {"conv": LayerBits(6, 7), "fc": LayerBits(7, 6)})
    calibrate(quantized, _batches(1, 8, SHAPE, seed=8), device=CPU)
    info = export_onnx(quantized, SHAPE, path=tmp_path / "zoo.onnx")
    assert [layer.folded_batchnorm for layer in info.layers] == ["conv_bn", None]
    agreement = compare_with_torch(quantized, info.path, _images(16))
    assert agreement.reference is not None
    assert agreement.onnxruntime.matching_images >= 15 / 16
    assert agreement.reference.matching_images >= 15 / 16


class _WithGelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


class _WithSigmoid(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(x))


def test_unsupported_layers_and_states_are_named(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    with pytest.raises(ValueError, match=r"layer 'act': GELU is not supported"):
        export_onnx(_WithGelu().eval(), SHAPE, path=path)
    with pytest.raises(ValueError, match=r"sigmoid is not supported"):
        export_onnx(_WithSigmoid().eval(), SHAPE, path=path)
    with pytest.raises(ValueError, match="eval mode"):
        export_onnx(_WithGelu().train(), SHAPE, path=path)
    uncalibrated = quantize_model(_residual_net(), MIXED)
    with pytest.raises(ValueError, match="'stem' has no activation step"):
        export_onnx(uncalibrated, SHAPE, path=path)
    assert not path.exists()


@pytest.mark.slow
def test_resnet18_for_fashion_mnist_exports_and_matches(tmp_path: Path) -> None:
    shape = (1, 28, 28)
    model = build_model(ModelSpec("resnet18"), in_channels=1, num_classes=10, input_hw=(28, 28))
    # Untrained BatchNorm statistics let activations grow through the net; re-estimate them.
    recalibrate_batchnorm(model, _batches(1, 8, shape, seed=5), device=CPU)
    names = [layer.name for layer in quantizable_layers(model, shape)]
    cycle = (2, 3, 4, 5, 6, 7, 8)
    bits = {name: LayerBits(cycle[i % 7], cycle[(i + 3) % 7]) for i, name in enumerate(names)}
    bits[names[0]] = bits[names[-1]] = LayerBits(8, 8)
    quantized = quantize_model(model, bits)
    calibrate(quantized, _batches(1, 4, shape, seed=6), device=CPU)
    info = export_onnx(quantized, shape, path=tmp_path / "resnet18.onnx")
    assert len(info.layers) == 21
    assert sum(layer.folded_batchnorm is not None for layer in info.layers) == 20
    images = _images(8, shape, seed=7)
    agreement = compare_with_torch(quantized, info.path, images, reference=False)
    # Conv sums in another order can move a value across a rounding tie; 18 layers at 2-8 bits
    # amplify that code step, so a few images differ (about 1 in 10 here, see Agreement).
    assert agreement.onnxruntime.matching_images >= 6 / 8
    assert agreement.onnxruntime.argmax_agreement >= 7 / 8
    reference = compare_with_torch(quantized, info.path, images[:2])
    assert reference.reference is not None
    assert reference.reference.matching_images >= 1 / 2
    float_file = export_float_onnx(quantized, shape, path=tmp_path / "float.onnx")
    set_bits(quantized, {name: LayerBits(8, 8) for name in names})
    eight = export_onnx(quantized, shape, path=tmp_path / "eight.onnx")
    assert info.file_bytes < eight.file_bytes < float_file.file_bytes / 3.5
