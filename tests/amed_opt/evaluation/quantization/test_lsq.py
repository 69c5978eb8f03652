"""The LSQ tensor math: ranges, error bounds, STE and step gradients, the fused fast path, and
the initial step search."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from amed_opt.evaluation.quantization import fake_quantize
from amed_opt.evaluation.quantization import fused_fake_quantize
from amed_opt.evaluation.quantization import mse_optimal_step
from amed_opt.evaluation.quantization import quant_range


BITS = list(range(2, 9))


@pytest.mark.parametrize("bits", BITS)
def test_quant_range(bits: int) -> None:
    assert quant_range(bits, signed=True) == (-(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1)
    assert quant_range(bits, signed=False) == (0, 2**bits - 1)


@pytest.mark.parametrize("bits", [0, 1, 9, 16, -4, 2.0, True, "8"])
def test_quant_range_rejects_bits_outside_2_to_8(bits: object) -> None:
    with pytest.raises(ValueError, match=r"\[2, 8\]"):
        quant_range(bits, signed=True)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    bits=st.integers(2, 8),
    signed=st.booleans(),
    step=st.floats(1e-3, 10.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_output_is_on_the_grid_and_within_half_a_step(
    bits: int, signed: bool, step: float, seed: int
) -> None:
    q_min, q_max = quant_range(bits, signed=signed)
    generator = torch.Generator().manual_seed(seed)
    x = (torch.rand(2000, generator=generator) * 1.5 - 0.25) * (q_max - q_min) * step
    x = x + q_min * step
    s = torch.tensor([step])
    out = fake_quantize(x, s, q_min, q_max, 1.0)
    codes = out / s
    assert torch.allclose(codes, codes.round(), atol=1e-3)
    assert codes.min() >= q_min - 1e-3 and codes.max() <= q_max + 1e-3
    inside = (x >= q_min * step) & (x <= q_max * step)
    # Within range the error is at most half a step; outside, values clip to the range's ends.
    assert ((out - x)[inside].abs() <= step / 2 * (1 + 1e-4) + 1e-6).all()
    assert torch.allclose(out[x > q_max * step], torch.tensor(q_max * step))
    assert torch.allclose(out[x < q_min * step], torch.tensor(q_min * step))
    # Quantizing twice changes nothing.
    assert torch.equal(fake_quantize(out, s, q_min, q_max, 1.0), out)


@pytest.mark.parametrize("bits", BITS)
def test_mean_squared_error_of_uniform_values_is_a_twelfth_of_the_squared_step(bits: int) -> None:
    q_min, q_max = quant_range(bits, signed=True)
    step = 0.1
    x = (torch.rand(200_000, generator=torch.Generator().manual_seed(bits)) - 0.5) * 2
    x = x * q_max * step
    mse = (fake_quantize(x, torch.tensor([step]), q_min, q_max, 1.0) - x).pow(2).mean()
    assert mse.item() == pytest.approx(step**2 / 12, rel=0.05)


def test_straight_through_gradient_is_one_inside_the_range_and_zero_outside() -> None:
    x = torch.tensor([-5.0, -1.5, -0.2, 0.0, 0.7, 1.5, 5.0], requires_grad=True)
    step = torch.tensor([0.5])
    out = fake_quantize(x, step, -3, 3, 1.0)
    out.sum().backward()
    assert x.grad is not None
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_step_gradient_matches_the_lsq_formula_by_hand() -> None:
    # 3-bit signed: codes in [-3, 3]; x / s = [0.52, -1.48, 10, -10].
    x = torch.tensor([0.26, -0.74, 5.0, -5.0])
    step = torch.tensor([0.5], requires_grad=True)
    grad_scale = 0.25
    fake_quantize(x, step, -3, 3, grad_scale).sum().backward()
    # Inside: round(v) - v = 1 - 0.52 and -1 + 1.48; clipped: q_max = 3 and q_min = -3.
    expected = ((1 - 0.52) + (-1 + 1.48) + 3 - 3) * grad_scale
    assert step.grad is not None
    assert step.grad.item() == pytest.approx(expected, abs=1e-6)


def test_step_gradient_weights_each_element_by_its_upstream_gradient() -> None:
    x = torch.tensor([0.26, 5.0])
    step = torch.tensor([0.5], requires_grad=True)
    out = fake_quantize(x, step, -3, 3, 1.0)
    (out * torch.tensor([2.0, -1.0])).sum().backward()
    assert step.grad is not None
    assert step.grad.item() == pytest.approx(2 * (1 - 0.52) - 3, abs=1e-6)


def test_per_channel_step_gradient_sums_within_each_channel() -> None:
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(4, 3, 3, 3, generator=generator)
    steps = torch.rand(4, 1, 1, 1, generator=generator) * 0.2 + 0.05
    steps.requires_grad_(True)
    fake_quantize(weight, steps, -7, 7, 1.0).sum().backward()
    assert steps.grad is not None and steps.grad.shape == steps.shape
    for channel in range(4):
        s = steps[channel].detach()
        single = s.clone().requires_grad_(True)
        fake_quantize(weight[channel], single, -7, 7, 1.0).sum().backward()
        assert single.grad is not None
        assert steps.grad[channel].item() == pytest.approx(single.grad.item(), abs=1e-5)


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("signed", [True, False])
def test_fused_kernels_agree_exactly_with_the_autograd_function(bits: int, signed: bool) -> None:
    q_min, q_max = quant_range(bits, signed=signed)
    generator = torch.Generator().manual_seed(bits)
    x = torch.randn(64, 8, 5, 5, generator=generator) * 2
    # Values exactly on rounding ties are where two implementations would first disagree.
    step = torch.tensor([0.125])
    ties = (torch.arange(-40, 41, dtype=torch.float32) + 0.5) * 0.125
    for values in (x, ties):
        ours = fake_quantize(values, step, q_min, q_max, 1.0)
        assert torch.equal(fused_fake_quantize(values, step, q_min, q_max), ours)
    channel_steps = torch.rand(64, 1, 1, 1, generator=generator) * 0.3 + 0.01
    ours = fake_quantize(x, channel_steps, q_min, q_max, 1.0)
    assert torch.equal(fused_fake_quantize(x, channel_steps, q_min, q_max), ours)


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_mse_step_beats_the_max_and_lsq_heuristic_steps(bits: int) -> None:
    q_min, q_max = quant_range(bits, signed=True)
    x = torch.randn(20_000, generator=torch.Generator().manual_seed(1))

    def mse(step: torch.Tensor) -> float:
        return (fake_quantize(x, step, q_min, q_max, 1.0) - x).pow(2).mean().item()

    best = mse_optimal_step(x, q_min=q_min, q_max=q_max, per_channel=False)
    assert best.shape == (1,) and best.item() > 0
    max_step = x.abs().max().reshape(1) / q_max
    lsq_step = (2 * x.abs().mean() / math.sqrt(q_max)).reshape(1)
    assert mse(best) <= mse(max_step) + 1e-9
    assert mse(best) <= mse(lsq_step) + 1e-9


def test_mse_step_per_channel_has_one_step_per_channel_and_survives_zero_channels() -> None:
    weight = torch.randn(6, 4, 3, 3, generator=torch.Generator().manual_seed(2))
    weight[2] = 0
    weight[4] *= 10
    steps = mse_optimal_step(weight, q_min=-7, q_max=7, per_channel=True)
    assert steps.shape == (6, 1, 1, 1)
    assert (steps > 0).all()
    # A channel ten times larger gets a step about ten times larger.
    assert 5 < (steps[4] / steps[0]).item() < 20


def test_mse_step_for_unsigned_values_spans_the_positive_range() -> None:
    x = torch.rand(10_000, generator=torch.Generator().manual_seed(3)) * 6
    step = mse_optimal_step(x, q_min=0, q_max=255, per_channel=False)
    # At 8 bits the best clipping is (nearly) the maximum.
    assert step.item() * 255 == pytest.approx(6, rel=0.05)
