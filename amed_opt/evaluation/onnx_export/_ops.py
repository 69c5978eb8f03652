"""ONNX nodes for the float operations between quantized layers, keyed by fx node target.

Each handler takes the export `Context`, the fx node and its target (the module, the function or
the method name), writes ONNX nodes and returns the name of the output tensor. Handlers accept
exactly the call forms torchvision classifiers use and raise `ValueError` naming the node for
any other argument (a `torch.flatten` from dimension 0, a pool with `return_indices`, ...), so
that nothing is exported with silently different semantics. Module handlers are keyed by exact
type: a subclass may override `forward`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import fx
from torch import nn
from torch.nn import functional

from amed_opt.evaluation.onnx_export._graph import GraphBuilder
from amed_opt.evaluation.onnx_export._graph import batchnorm_factors


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler needs: the graph being built, fx node -> tensor name, the traced model."""

    graph: GraphBuilder
    env: dict[fx.Node, str]
    traced: fx.GraphModule

    def tensor(self, node: fx.Node, value: object) -> str:
        """The ONNX tensor of fx argument `value`, which must be a tensor-valued node."""
        if not isinstance(value, fx.Node):
            raise ValueError(f"cannot export {node.name!r}: argument {value!r} is not a tensor")
        return self.env[value]


Handler = Callable[[Context, fx.Node, Any], str]


def _shape(node: object) -> tuple[int, ...]:
    assert isinstance(node, fx.Node)
    return tuple(int(v) for v in node.meta["tensor_meta"].shape)


def _only(node: fx.Node, names: tuple[str, ...]) -> dict[str, Any]:
    """Positional and keyword arguments of `node` bound to `names` (missing ones absent)."""
    if len(node.args) > len(names):
        raise ValueError(f"cannot export {node.name!r}: too many arguments")
    bound = dict(zip(names, node.args, strict=False))
    for key, value in node.kwargs.items():
        if key not in names:
            raise ValueError(f"cannot export {node.name!r}: argument {key!r} is not supported")
        bound[key] = value
    if "input" not in bound:
        raise ValueError(f"cannot export {node.name!r}: no input tensor")
    return bound


def _relu(context: Context, node: fx.Node, target: Any) -> str:
    bound = _only(node, ("input", "inplace"))
    return context.graph.node("Relu", [context.tensor(node, bound["input"])], node.name)


def _clip(context: Context, node: fx.Node, x: fx.Node | Any, low: float, high: float) -> str:
    graph = context.graph
    lo = graph.constant(f"{node.name}.min", np.array(low, dtype=np.float32))
    hi = graph.constant(f"{node.name}.max", np.array(high, dtype=np.float32))
    return graph.node("Clip", [context.tensor(node, x), lo, hi], node.name)


def _hardtanh_module(context: Context, node: fx.Node, module: nn.Hardtanh) -> str:
    return _clip(context, node, _only(node, ("input",))["input"], *_bounds(module))


def _bounds(module: nn.Hardtanh) -> tuple[float, float]:
    return float(module.min_val), float(module.max_val)


def _relu6_function(context: Context, node: fx.Node, target: Any) -> str:
    return _clip(context, node, _only(node, ("input", "inplace"))["input"], 0.0, 6.0)


def _add(context: Context, node: fx.Node, target: Any) -> str:
    bound = _only(node, ("input", "other"))
    left, right = context.tensor(node, bound["input"]), context.tensor(node, bound["other"])
    return context.graph.node("Add", [left, right], node.name)


def _flatten(context: Context, node: fx.Node, start: int, end: int, x: Any) -> str:
    # ONNX Flatten always returns 2-D: equal to torch.flatten only from dimension 1 to the end.
    rank = len(_shape(x))
    if start % rank != 1 or end % rank != rank - 1:
        raise ValueError(f"cannot export {node.name!r}: only flatten(1, -1) is supported")
    return context.graph.node("Flatten", [context.tensor(node, x)], node.name, axis=1)


def _flatten_call(context: Context, node: fx.Node, target: Any) -> str:
    bound = _only(node, ("input", "start_dim", "end_dim"))
    return _flatten(
        context, node, bound.get("start_dim", 0), bound.get("end_dim", -1), bound["input"]
    )


def _flatten_module(context: Context, node: fx.Node, module: nn.Flatten) -> str:
    x = _only(node, ("input",))["input"]
    return _flatten(context, node, module.start_dim, module.end_dim, x)


def _adaptive_average(context: Context, node: fx.Node, x: Any) -> str:
    height, width = _shape(x)[-2:]
    out_h, out_w = _shape(node)[-2:]
    source = context.tensor(node, x)
    if (out_h, out_w) == (1, 1):
        return context.graph.node("GlobalAveragePool", [source], node.name)
    if height % out_h or width % out_w:
        raise ValueError(
            f"cannot export {node.name!r}: adaptive pooling from {height}x{width} to "
            f"{out_h}x{out_w} has unequal windows"
        )
    # Equal windows: adaptive pooling is plain average pooling with kernel = stride = in/out.
    kernel = [height // out_h, width // out_w]
    return context.graph.node(
        "AveragePool", [source], node.name, kernel_shape=kernel, strides=kernel
    )


def _adaptive_function(context: Context, node: fx.Node, target: Any) -> str:
    return _adaptive_average(context, node, _only(node, ("input", "output_size"))["input"])


def _adaptive_module(context: Context, node: fx.Node, module: nn.AdaptiveAvgPool2d) -> str:
    return _adaptive_average(context, node, _only(node, ("input",))["input"])


def _pair(value: int | tuple[int, ...]) -> list[int]:
    return [int(value), int(value)] if isinstance(value, int) else [int(v) for v in value]


def _max_pool(context: Context, node: fx.Node, module: nn.MaxPool2d) -> str:
    if module.return_indices:
        raise ValueError(f"cannot export {node.target!r}: MaxPool2d with return_indices")
    x = _only(node, ("input",))["input"]
    padding = _pair(module.padding)
    return context.graph.node(
        "MaxPool",
        [context.tensor(node, x)],
        node.name,
        kernel_shape=_pair(module.kernel_size),
        strides=_pair(module.stride),
        pads=padding + padding,
        dilations=_pair(module.dilation),
        ceil_mode=int(module.ceil_mode),
    )


def _avg_pool(context: Context, node: fx.Node, module: nn.AvgPool2d) -> str:
    if module.divisor_override is not None:
        raise ValueError(f"cannot export {node.target!r}: AvgPool2d with divisor_override")
    x = _only(node, ("input",))["input"]
    padding = _pair(module.padding)
    return context.graph.node(
        "AveragePool",
        [context.tensor(node, x)],
        node.name,
        kernel_shape=_pair(module.kernel_size),
        strides=_pair(module.stride),
        pads=padding + padding,
        ceil_mode=int(module.ceil_mode),
        count_include_pad=int(module.count_include_pad),
    )


def _batchnorm(context: Context, node: fx.Node, module: nn.BatchNorm2d) -> str:
    # Not after a conv it can be folded into: the eval-mode affine map per channel.
    x = _only(node, ("input",))["input"]
    k, shift = batchnorm_factors((str(node.target), module), module.num_features)
    graph = context.graph
    scale = graph.constant(f"{node.target}.scale", k.astype(np.float32).reshape(-1, 1, 1))
    offset = graph.constant(f"{node.target}.shift", shift.astype(np.float32).reshape(-1, 1, 1))
    scaled = graph.node("Mul", [context.tensor(node, x), scale], f"{node.name}.scaled")
    return graph.node("Add", [scaled, offset], node.name)


def _identity(context: Context, node: fx.Node, module: nn.Module) -> str:
    # Dropout is the identity in eval mode, which the export requires.
    return context.tensor(node, _only(node, ("input",))["input"])


MODULES: dict[type[nn.Module], Handler] = {
    nn.ReLU: _relu,
    nn.ReLU6: _hardtanh_module,
    nn.Hardtanh: _hardtanh_module,
    nn.MaxPool2d: _max_pool,
    nn.AvgPool2d: _avg_pool,
    nn.AdaptiveAvgPool2d: _adaptive_module,
    nn.Flatten: _flatten_module,
    nn.BatchNorm2d: _batchnorm,
    nn.Dropout: _identity,
    nn.Identity: _identity,
}
"""Handlers of module calls by exact module type (Conv2d and Linear are the exporter's)."""

FUNCTIONS: dict[Any, Handler] = {
    operator.add: _add,
    torch.add: _add,
    torch.relu: _relu,
    functional.relu: _relu,
    functional.relu6: _relu6_function,
    torch.flatten: _flatten_call,
    functional.adaptive_avg_pool2d: _adaptive_function,
}
"""Handlers of function calls by function."""

METHODS: dict[str, Handler] = {
    "add": _add,
    "relu": _relu,
    "flatten": _flatten_call,
}
"""Handlers of tensor method calls by method name."""


def foldable_batchnorm(traced: fx.GraphModule, conv: fx.Node) -> fx.Node | None:
    """The `BatchNorm2d` call that is the only consumer of `conv`'s output, if any."""
    users = list(conv.users)
    if len(users) != 1 or users[0].op != "call_module":
        return None
    user = users[0]
    module = traced.get_submodule(str(user.target))
    if type(module) is not nn.BatchNorm2d or user.args != (conv,) or user.kwargs:
        return None
    return user


def emit_other(context: Context, node: fx.Node) -> str:
    """Write a fx node other than Conv2d/Linear; return its output tensor's name.

    Raises:
        ValueError: Naming the node and its module type or function, if it is not supported.
    """
    handler: Handler | None
    if node.op == "call_module":
        module = context.traced.get_submodule(str(node.target))
        handler = MODULES.get(type(module))
        if handler is None:
            raise ValueError(
                f"cannot export layer {node.target!r}: {type(module).__name__} is not supported"
            )
        return handler(context, node, module)
    if node.op == "call_function":
        handler = FUNCTIONS.get(node.target)
        what = getattr(node.target, "__name__", repr(node.target))
    elif node.op == "call_method":
        handler = METHODS.get(str(node.target))
        what = f"Tensor.{node.target}"
    else:
        handler, what = None, f"{node.op} {node.target}"
    if handler is None:
        raise ValueError(f"cannot export {node.name!r}: {what} is not supported")
    return handler(context, node, node.target)
