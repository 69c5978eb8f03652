"""Classification models by torchvision name, adapted to the data, and their quantizable layers.

`build_model` loads any torchvision classification model with `torchvision.models.get_model`
and adapts it without forking its source: the number of classes through torchvision's own
`num_classes` argument (or by replacing the last layer when pretrained weights fix it at 1000),
and the number of input channels by replacing the first convolution. "First" and "last" are
found by running the model, not by knowing its attribute names, so the same code serves ResNets,
MobileNets and the rest. Any input resolution works because torchvision classifiers end in
adaptive pooling; a probe forward pass at the data's resolution checks that it is large enough.

`quantizable_layers` records, with forward hooks on one batch-1 forward pass, every `Conv2d`
(grouped and depthwise included) and `Linear` in the order they run, named by module path, as
the `hardware.LayerShape` the accelerator model prices: the exact input size, kernel, stride,
padding, dilation and groups. The first and the last of them stay at the study's fixed bitwidth
(METHOD.md §2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import torch
import torchvision
from torch import nn

from amed_opt.evaluation.quantization import quantization_disabled
from hardware import LayerKind
from hardware import LayerShape


if TYPE_CHECKING:
    from amed_opt.study.spec import ModelSpec

QUANTIZABLE_TYPES = (nn.Conv2d, nn.Linear)
"""Module types that are quantized and priced by the hardware model (subclasses included)."""


def available_models() -> list[str]:
    """Names of torchvision's classification models, all usable as `ModelSpec.arch`."""
    return sorted(torchvision.models.list_models(module=torchvision.models))


def torchvision_weights(spec: ModelSpec) -> Any | None:
    """The torchvision weights enum member that `spec.weights` names, or None.

    `"train"` and checkpoint paths give None.

    Raises:
        ValueError: If the architecture is unknown (the message lists the known ones).
    """
    _check_arch(spec.arch)
    members = torchvision.models.get_model_weights(spec.arch).__members__
    return members.get(spec.weights)


def build_model(
    spec: ModelSpec,
    *,
    in_channels: int,
    num_classes: int,
    input_hw: tuple[int, int],
    seed: int = 0,
) -> nn.Module:
    """A torchvision classifier adapted to `in_channels` input channels and `num_classes` classes.

    If `spec.weights` names torchvision weights (`"IMAGENET1K_V1"`, `"DEFAULT"`), they are
    loaded (torchvision's cache; downloading needs network access) and the layers that do not
    fit are replaced: a new first convolution whose weight is the pretrained one summed over
    the colour channels when the input has one channel (else freshly initialized), and a fresh
    last layer when the classes differ. Otherwise (`"train"` or a checkpoint path, which
    `amed_opt.evaluation.baseline` loads) the weights are torchvision's random initialization,
    seeded.

    Args:
        spec: Architecture name and weights.
        in_channels: Channels of the input images (1 for Fashion-MNIST).
        num_classes: Number of classes.
        input_hw: Input height and width in pixels, for the probe pass.
        seed: Seed of the random initialization (the caller's global RNG is left untouched).

    Returns:
        The model, on the CPU, in eval mode.

    Raises:
        ValueError: If the architecture is unknown (the message lists the known ones), or the
            model does not run at `input_hw`.
        RuntimeError: If torchvision weights cannot be loaded (for example, offline).
    """
    weights = torchvision_weights(spec)
    if in_channels <= 0 or num_classes <= 0:
        raise ValueError(
            f"in_channels and num_classes must be > 0, got {in_channels}, {num_classes}"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if weights is None:
            model = torchvision.models.get_model(spec.arch, weights=None, num_classes=num_classes)
        else:
            try:
                model = torchvision.models.get_model(spec.arch, weights=weights)
            except Exception as error:
                raise RuntimeError(
                    f"could not load torchvision weights {spec.arch}/{spec.weights}: {error}"
                ) from error
        model.eval()
        first_conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
        native_channels = first_conv.in_channels if first_conv is not None else in_channels
        order = _run_order(model, (native_channels, *input_hw))
        first_name, last_name = order[0], order[-1]
        first = model.get_submodule(first_name)
        if isinstance(first, nn.Conv2d) and first.in_channels != in_channels:
            _replace(model, first_name, _conv_with_inputs(first, in_channels, weights is not None))
        last = model.get_submodule(last_name)
        if _outputs(last) != num_classes:
            _replace(model, last_name, _layer_with_outputs(last, num_classes))
    model.eval()
    return model


def quantizable_layers(model: nn.Module, input_shape: tuple[int, int, int]) -> list[LayerShape]:
    """The model's Conv2d and Linear layers as the hardware sees them, in forward order.

    Runs one forward pass on a zero batch of size 1 (in eval mode, with quantization disabled,
    without gradients) and records each layer's input size.

    Args:
        model: Any model (float or quantized).
        input_shape: `(channels, height, width)` of one input image.

    Returns:
        One `LayerShape` per layer, named by module path, in the order the layers run.

    Raises:
        ValueError: If a layer runs more than once per forward pass, has no quantizable layer,
            or uses a padding the hardware model cannot represent.
    """
    records: list[LayerShape] = []
    calls: dict[str, int] = {}

    def record(name: str, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        calls[name] = calls.get(name, 0) + 1
        records.append(_layer_shape(name, module, inputs[0], output))

    _with_hooks(model, input_shape, record)
    repeated = sorted(name for name, count in calls.items() if count > 1)
    if repeated:
        raise ValueError(
            f"layers {', '.join(repeated)} run more than once per forward pass; a layer must "
            "have one bitwidth and one latency, so shared layers are not supported"
        )
    if not records:
        raise ValueError("the model has no Conv2d or Linear layer that runs in its forward pass")
    return records


def fixed_layer_names(layers: Sequence[LayerShape]) -> tuple[str, str]:
    """The first and the last quantizable layer, which stay at `search.fixed_bits`.

    Raises:
        ValueError: If `layers` is empty.
    """
    if not layers:
        raise ValueError("no quantizable layers")
    return layers[0].name, layers[-1].name


def _check_arch(arch: str) -> None:
    known = available_models()
    if arch not in known:
        raise ValueError(f"unknown model {arch!r}; known torchvision models: {', '.join(known)}")


def _run_order(model: nn.Module, input_shape: tuple[int, int, int]) -> list[str]:
    order: list[str] = []

    def record(name: str, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        if name not in order:
            order.append(name)

    _with_hooks(model, input_shape, record)
    if not order:
        raise ValueError("the model has no Conv2d or Linear layer that runs in its forward pass")
    return order


def _with_hooks(model: nn.Module, input_shape: tuple[int, int, int], callback: Any) -> None:
    """Run `model` on zeros of `(1, *input_shape)` calling `callback(name, module, in, out)`."""
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, QUANTIZABLE_TYPES):

            def hook(module: nn.Module, inputs: Any, output: Any, name: str = name) -> None:
                callback(name, module, inputs, output)

            handles.append(module.register_forward_hook(hook))
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), quantization_disabled(model):
            try:
                model(torch.zeros((1, *input_shape), device=device))
            except RuntimeError as error:
                raise ValueError(
                    f"{type(model).__name__} does not run on inputs of shape {input_shape}: "
                    f"{str(error).splitlines()[0]}"
                ) from error
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)


def _layer_shape(
    name: str, module: nn.Module, x: torch.Tensor, output: torch.Tensor
) -> LayerShape:
    if isinstance(module, nn.Conv2d):
        input_hw = (int(x.shape[-2]), int(x.shape[-1]))
        output_hw = (int(output.shape[-2]), int(output.shape[-1]))
        padding = _numeric_padding(name, module)
        layer = LayerShape.conv2d(
            name,
            in_channels=module.in_channels,
            out_channels=module.out_channels,
            input_hw=input_hw,
            kernel=module.kernel_size,  # type: ignore[arg-type]
            stride=module.stride,  # type: ignore[arg-type]
            padding=padding,
            dilation=module.dilation,  # type: ignore[arg-type]
            groups=module.groups,
        )
        if (layer.output_h, layer.output_w) != output_hw:
            raise ValueError(
                f"layer {name!r}: output {output_hw} differs from the computed "
                f"{(layer.output_h, layer.output_w)}"
            )
        return layer
    assert isinstance(module, nn.Linear)
    rows = x.numel() // module.in_features
    if rows == 1:
        return LayerShape.linear(
            name, in_features=module.in_features, out_features=module.out_features
        )
    # A Linear applied to a sequence (tokens, features) is a GEMM with one row per token.
    return LayerShape(
        name=name,
        kind=LayerKind.LINEAR,
        in_channels=module.in_features,
        out_channels=module.out_features,
        input_h=rows,
        input_w=1,
        output_h=rows,
        output_w=1,
    )


def _numeric_padding(name: str, conv: nn.Conv2d) -> tuple[int, int]:
    if conv.padding == "valid":
        return 0, 0
    if conv.padding == "same":
        totals = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size, strict=True)]
        if any(total % 2 for total in totals):
            raise ValueError(
                f"layer {name!r}: padding='same' with an even kernel pads asymmetrically, "
                "which the hardware layer shape cannot represent"
            )
        return totals[0] // 2, totals[1] // 2
    padding = conv.padding
    assert isinstance(padding, tuple)
    return int(padding[0]), int(padding[1])


def _outputs(layer: nn.Module) -> int:
    if isinstance(layer, nn.Linear):
        return layer.out_features
    assert isinstance(layer, nn.Conv2d)
    return layer.out_channels


def _conv_with_inputs(conv: nn.Conv2d, in_channels: int, pretrained: bool) -> nn.Conv2d:
    if conv.groups != 1:
        raise ValueError("the first convolution is grouped; its input channels cannot be changed")
    replacement = nn.Conv2d(
        in_channels,
        conv.out_channels,
        conv.kernel_size,  # type: ignore[arg-type]
        stride=conv.stride,  # type: ignore[arg-type]
        padding=conv.padding,  # type: ignore[arg-type]
        dilation=conv.dilation,  # type: ignore[arg-type]
        bias=conv.bias is not None,
        padding_mode=conv.padding_mode,
    )
    with torch.no_grad():
        if pretrained and in_channels == 1:
            # A grey image is the sum of equal colour channels: summed filters keep the response.
            replacement.weight.copy_(conv.weight.sum(dim=1, keepdim=True))
        elif in_channels <= conv.in_channels:
            # Keeping a slice keeps the architecture's own initialization (or pretrained filters).
            replacement.weight.copy_(conv.weight[:, :in_channels])
        if conv.bias is not None and replacement.bias is not None:
            replacement.bias.copy_(conv.bias)
    return replacement


def _layer_with_outputs(layer: nn.Module, num_classes: int) -> nn.Module:
    if isinstance(layer, nn.Linear):
        return nn.Linear(layer.in_features, num_classes, bias=layer.bias is not None)
    assert isinstance(layer, nn.Conv2d)
    return nn.Conv2d(
        layer.in_channels,
        num_classes,
        layer.kernel_size,  # type: ignore[arg-type]
        stride=layer.stride,  # type: ignore[arg-type]
        padding=layer.padding,  # type: ignore[arg-type]
        bias=layer.bias is not None,
    )


def _replace(root: nn.Module, name: str, replacement: nn.Module) -> None:
    parent_name, _, child_name = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child_name, replacement)


__all__ = [
    "QUANTIZABLE_TYPES",
    "available_models",
    "build_model",
    "fixed_layer_names",
    "quantizable_layers",
    "torchvision_weights",
]
