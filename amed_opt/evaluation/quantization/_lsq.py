"""LSQ fake quantization: the tensor math, its gradients, and the initial step search.

Learned step size quantization (LSQ; Esser et al., "Learned Step Size Quantization", ICLR 2020,
https://arxiv.org/abs/1902.08153) simulates a `b`-bit uniform quantizer in floating point:

    x_hat = s * round(clamp(x / s, q_min, q_max))

and learns the step `s` by gradient descent. `round` has zero gradient almost everywhere, so the
backward pass uses the straight-through estimator (STE): `d x_hat / d x` is 1 where `x / s` lies in
`[q_min, q_max]` and 0 where it is clipped. The step's gradient is the exact derivative of the
expression above with `round` treated the same way:

    d x_hat / d s = round(x / s) - x / s    inside the range
                  = q_min or q_max          where x is clipped below or above,

summed over the elements the step governs and multiplied by the gradient scale
`g = 1 / sqrt(n * q_max)` of the paper (`n` elements per step), which keeps the step's updates
commensurate with the weights' updates.

`fake_quantize` is our own `torch.autograd.Function`; it is the training path. Evaluation uses
PyTorch's fused `torch.fake_quantize_per_tensor_affine` / `_per_channel_affine` kernels (one pass
instead of four); both compute `x * (1 / s)` before rounding half to even, so they return exactly
the same values, which `tests/amed_opt/quantization/test_lsq.py` checks.

`mse_optimal_step` picks the initial step: the one that minimises the mean squared quantization
error of reference values (the weights themselves, or a sample of calibration activations), by a
coarse-to-fine grid search over clipping ratios. For post-training quantization (a trial with no
training steps) this is much better than LSQ's `2 * mean(|x|) / sqrt(q_max)` heuristic, as LSQ+
(Bhalgat et al. 2020, https://arxiv.org/abs/2004.09576) also observes.
"""

from __future__ import annotations

from typing import Any

import torch


MIN_STEP = 1e-8
"""Floor applied to every step before use, so a step driven to zero cannot divide by zero."""

_COARSE_GRID = 32
_FINE_GRID = 16
_MAX_COLUMNS = 512


def quant_range(bits: int, *, signed: bool) -> tuple[int, int]:
    """Integer range `(q_min, q_max)` of a `bits`-bit quantizer.

    Signed ranges are symmetric (`-(2^(b-1) - 1) .. 2^(b-1) - 1`, the most negative code unused) so
    that zero and the sign are exact; unsigned ranges are `0 .. 2^b - 1`.

    Raises:
        ValueError: If `bits` is not in [2, 8].
    """
    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 8:
        raise ValueError(f"bits must be an integer in [2, 8], got {bits!r}")
    if signed:
        q_max = 2 ** (bits - 1) - 1
        return -q_max, q_max
    return 0, 2**bits - 1


class _LsqFunction(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        step: torch.Tensor,
        q_min: int,
        q_max: int,
        grad_scale: float,
    ) -> torch.Tensor:
        # Multiply by the reciprocal (not divide) to round exactly as PyTorch's fused kernels do.
        scaled = x * (1.0 / step)
        quantized = torch.clamp(torch.round(scaled), q_min, q_max)
        ctx.save_for_backward(scaled, step)
        ctx.q_range = (q_min, q_max)
        ctx.grad_scale = grad_scale
        return quantized * step

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        scaled, step = ctx.saved_tensors
        q_min, q_max = ctx.q_range
        inside = (scaled >= q_min) & (scaled <= q_max)
        grad_x = grad_output * inside if ctx.needs_input_grad[0] else None
        grad_step = None
        if ctx.needs_input_grad[1]:
            # Outside the range the clamped code is exactly q_min or q_max, the derivative there.
            quantized = torch.clamp(torch.round(scaled), q_min, q_max)
            d_step = torch.where(inside, quantized - scaled, quantized)
            grad_step = (grad_output * d_step).sum_to_size(step.shape) * ctx.grad_scale
        return grad_x, grad_step, None, None, None


def fake_quantize(
    x: torch.Tensor, step: torch.Tensor, q_min: int, q_max: int, grad_scale: float
) -> torch.Tensor:
    """LSQ fake quantization with STE and scaled step gradient (see the module docstring).

    Args:
        x: Values to quantize, any shape.
        step: Positive step size, broadcastable to `x` (shape `(1,)` per tensor, or
            `(channels, 1, ..., 1)` per output channel).
        q_min: Lowest integer code.
        q_max: Highest integer code.
        grad_scale: Factor `g` applied to the step's gradient.

    Returns:
        `step * round(clamp(x / step, q_min, q_max))`, same shape as `x`.
    """
    result: torch.Tensor = _LsqFunction.apply(x, step, q_min, q_max, grad_scale)
    return result


def fused_fake_quantize(
    x: torch.Tensor, step: torch.Tensor, q_min: int, q_max: int
) -> torch.Tensor:
    """The same values as `fake_quantize`, from PyTorch's fused kernels; no gradient to the step.

    Args:
        x: Values to quantize (float32).
        step: Step of shape `(1,)` (per tensor) or `(channels, 1, ..., 1)` (per channel along
            dimension 0).
        q_min: Lowest integer code.
        q_max: Highest integer code.
    """
    scale = step.detach().reshape(-1).to(torch.float32)
    zero_point = torch.zeros(scale.shape, dtype=torch.int32, device=x.device)
    if scale.numel() == 1:
        return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, q_min, q_max)
    return torch.fake_quantize_per_channel_affine(x, scale, zero_point, 0, q_min, q_max)


def mse_optimal_step(
    values: torch.Tensor, *, q_min: int, q_max: int, per_channel: bool
) -> torch.Tensor:
    """The step minimising the mean squared quantization error of `values`.

    Candidates are `r * absmax / q_max` for clipping ratios `r` in `(0, 1]`: a coarse grid of 32
    ratios, then 16 ratios around the best one. With `per_channel`, each slice along dimension 0
    gets its own step; its maximum comes from all its values, but the error is measured on at
    most 512 evenly strided values of it, which keeps initializing a large network's steps fast.

    Args:
        values: Reference values (weights `(C, ...)`, or a flat activation sample).
        q_min: Lowest integer code (0 for unsigned).
        q_max: Highest integer code.
        per_channel: One step per slice along dimension 0, else one step for all.

    Returns:
        Steps of shape `(C, 1, ..., 1)` matching `values.dim()` per channel, or `(1,)`.
    """
    rows = values.detach().reshape(values.shape[0] if per_channel else 1, -1).float()
    reach = rows.abs() if q_min < 0 else rows.clamp_min(0)
    absmax = reach.amax(dim=1, keepdim=True)
    # A constant-zero slice has no meaningful step; any positive value quantizes it exactly.
    absmax = torch.where(absmax > 0, absmax, torch.ones_like(absmax))
    if per_channel and rows.shape[1] > _MAX_COLUMNS:
        rows = rows[:, :: -(-rows.shape[1] // _MAX_COLUMNS)]
    coarse = torch.arange(1, _COARSE_GRID + 1, dtype=rows.dtype, device=rows.device)
    coarse = (coarse / _COARSE_GRID).expand(rows.shape[0], -1)
    best = _best_ratio(rows, absmax, coarse, q_min, q_max)
    half_width = 1.0 / _COARSE_GRID
    offsets = torch.linspace(-half_width, half_width, _FINE_GRID, device=rows.device)
    fine = (best + offsets).clamp(min=half_width / _FINE_GRID, max=1.0)
    best = _best_ratio(rows, absmax, fine, q_min, q_max)
    steps = (best * absmax / q_max).clamp_min(MIN_STEP)
    if per_channel:
        return steps.reshape(values.shape[0], *([1] * (values.dim() - 1)))
    return steps.reshape(1)


def _best_ratio(
    rows: torch.Tensor, absmax: torch.Tensor, ratios: torch.Tensor, q_min: int, q_max: int
) -> torch.Tensor:
    """For each row, the ratio (one column of `ratios`) with the least squared error."""
    errors = torch.empty_like(ratios)
    # One candidate at a time keeps memory at the size of `rows` (a large conv has millions).
    for index in range(ratios.shape[1]):
        step = ratios[:, index : index + 1] * absmax / q_max
        quantized = torch.clamp(torch.round(rows / step), q_min, q_max) * step
        errors[:, index] = (quantized - rows).pow(2).sum(dim=1)
    choice = errors.argmin(dim=1, keepdim=True)
    return ratios.gather(1, choice)
