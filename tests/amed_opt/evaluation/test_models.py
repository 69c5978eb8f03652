"""Models by name, adaptation to the data, and the layer shapes the hardware sees."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from amed_opt.evaluation.models import available_models
from amed_opt.evaluation.models import build_model
from amed_opt.evaluation.models import fixed_layer_names
from amed_opt.evaluation.models import quantizable_layers
from amed_opt.evaluation.models import torchvision_weights
from amed_opt.evaluation.quantization import quantize_model
from amed_opt.study.bits import BitConfig
from amed_opt.study.spec import ModelSpec
from hardware import LayerKind
from hardware import LayerShape


class _OutOfOrder(nn.Module):
    """Registers its layers in a different order from the one they run in."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(12, 5)
        self.body = nn.Sequential(
            nn.Conv2d(6, 12, 3, stride=2, padding=2, dilation=2),
            nn.ReLU(),
            nn.Conv2d(12, 12, (3, 1), padding=(1, 0), groups=12),
        )
        self.stem = nn.Conv2d(3, 6, 5, stride=(1, 2), padding=(2, 1), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(self.stem(x))
        return self.head(x.mean(dim=(2, 3)))


def test_layers_are_in_forward_order_with_exact_shapes() -> None:
    layers = quantizable_layers(_OutOfOrder(), (3, 17, 20))
    assert [layer.name for layer in layers] == ["stem", "body.0", "body.2", "head"]
    stem, dilated, depthwise, head = layers
    assert stem == LayerShape.conv2d(
        "stem", in_channels=3, out_channels=6, input_hw=(17, 20), kernel=5, stride=(1, 2),
        padding=(2, 1),
    )  # fmt: skip
    assert (stem.output_h, stem.output_w) == (17, 9)
    assert dilated == LayerShape.conv2d(
        "body.0", in_channels=6, out_channels=12, input_hw=(17, 9), kernel=3, stride=2,
        padding=2, dilation=2,
    )  # fmt: skip
    assert depthwise.groups == 12 and depthwise.is_depthwise
    assert (depthwise.kernel_h, depthwise.kernel_w, depthwise.padding_h) == (3, 1, 1)
    assert head == LayerShape.linear("head", in_features=12, out_features=5)
    assert fixed_layer_names(layers) == ("stem", "head")


def test_same_padding_and_linear_layers_over_tokens() -> None:
    class Tokens(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3, padding="same")
            self.mix = nn.Linear(4, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.mix(self.conv(x).flatten(2).transpose(1, 2))

    conv, mix = quantizable_layers(Tokens(), (2, 5, 6))
    assert (conv.padding_h, conv.output_h, conv.output_w) == (1, 5, 6)
    assert mix.kind is LayerKind.LINEAR
    assert (mix.input_h, mix.output_h, mix.gemm.m) == (30, 30, 30)


def test_a_layer_that_runs_twice_is_rejected() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(self.conv(x))

    with pytest.raises(ValueError, match="more than once"):
        quantizable_layers(Twice(), (3, 4, 4))


def test_quantized_model_has_the_same_layers_without_calibration(
    tiny_cnn: nn.Module, tiny_layer_names: tuple[str, ...]
) -> None:
    quantized = quantize_model(tiny_cnn, BitConfig.uniform(tiny_layer_names, 4))
    assert quantizable_layers(quantized, (3, 8, 8)) == quantizable_layers(tiny_cnn, (3, 8, 8))
    assert [layer.name for layer in quantizable_layers(tiny_cnn, (3, 8, 8))] == list(
        tiny_layer_names
    )


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'resnet19'.*resnet18.*resnet50"):
        build_model(ModelSpec("resnet19"), in_channels=1, num_classes=10, input_hw=(28, 28))
    assert {"resnet18", "resnet50", "mobilenet_v2"} <= set(available_models())


def test_too_small_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"does not run on inputs of shape \(3, 8, 8\)"):
        build_model(ModelSpec("squeezenet1_0"), in_channels=3, num_classes=10, input_hw=(8, 8))


def test_weights_names_are_recognised() -> None:
    assert torchvision_weights(ModelSpec("resnet18", "train")) is None
    assert torchvision_weights(ModelSpec("resnet18", "/some/checkpoint.pt")) is None
    assert torchvision_weights(ModelSpec("resnet18", "IMAGENET1K_V1")) is not None


def test_resnet18_is_adapted_to_grey_images_and_ten_classes() -> None:
    model = build_model(ModelSpec("resnet18"), in_channels=1, num_classes=10, input_hw=(28, 28))
    layers = quantizable_layers(model, (1, 28, 28))
    assert len(layers) == 21
    assert fixed_layer_names(layers) == ("conv1", "fc")
    assert (layers[0].in_channels, layers[-1].out_channels) == (1, 10)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_build_is_seeded() -> None:
    spec = ModelSpec("resnet18")
    first = build_model(spec, in_channels=1, num_classes=10, input_hw=(28, 28), seed=3)
    again = build_model(spec, in_channels=1, num_classes=10, input_hw=(28, 28), seed=3)
    other = build_model(spec, in_channels=1, num_classes=10, input_hw=(28, 28), seed=4)
    assert torch.equal(first.conv1.weight, again.conv1.weight)
    assert not torch.equal(first.conv1.weight, other.conv1.weight)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arch", "count", "first", "last", "depthwise"),
    [
        ("resnet18", 21, "conv1", "fc", 0),
        ("resnet50", 54, "conv1", "fc", 0),
        ("mobilenet_v2", 53, "features.0.0", "classifier.1", 17),
    ],
)
@pytest.mark.parametrize(("channels", "classes", "side"), [(1, 10, 28), (3, 100, 32)])
def test_real_architectures(
    arch: str, count: int, first: str, last: str, depthwise: int, channels: int, classes: int,
    side: int,
) -> None:  # fmt: skip
    model = build_model(
        ModelSpec(arch), in_channels=channels, num_classes=classes, input_hw=(side, side)
    )
    layers = quantizable_layers(model, (channels, side, side))
    assert len(layers) == count
    assert fixed_layer_names(layers) == (first, last)
    assert layers[0].in_channels == channels and layers[-1].out_channels == classes
    assert sum(layer.is_depthwise for layer in layers) == depthwise
    assert len({layer.name for layer in layers}) == count
    # Every layer's recorded input is what the previous layers produce at this resolution.
    assert (layers[0].input_h, layers[0].input_w) == (side, side)
    assert model(torch.zeros(1, channels, side, side)).shape == (1, classes)


def test_pretrained_weights_are_adapted_not_discarded(monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision

    original = torchvision.models.get_model
    loaded: dict[str, nn.Module] = {}

    def offline_get_model(name: str, **kwargs: object) -> nn.Module:
        # Stands in for a download: ImageNet-shaped (3 channels, 1000 classes), seeded weights.
        if kwargs.get("weights") is not None:
            torch.manual_seed(7)
            loaded["model"] = original(name, weights=None)
            return loaded["model"]
        return original(name, **kwargs)

    monkeypatch.setattr(torchvision.models, "get_model", offline_get_model)
    model = build_model(
        ModelSpec("resnet18", "IMAGENET1K_V1"), in_channels=1, num_classes=10, input_hw=(32, 32)
    )
    pretrained_conv = loaded["model"].conv1.weight
    assert model.conv1.in_channels == 1
    assert torch.allclose(model.conv1.weight, pretrained_conv.sum(dim=1, keepdim=True))
    assert model.fc.out_features == 10
    assert torch.equal(model.layer1[0].conv1.weight, loaded["model"].layer1[0].conv1.weight)
