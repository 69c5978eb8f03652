"""LSQ quantizer modules: one learnable step per bitwidth, the active one chosen by `bits`.

A quantizer keeps a *bank* of steps, one for every bitwidth in [2, 8], each with an
`initialized` flag. Setting `bits` selects a step; a step is initialized the first time its
bitwidth is used (from the current weights, or from the recorded calibration sample of the
layer's input) and is learned only while it is active. This is what the `shared` evaluator mode
needs: when the chain moves a layer from 4 to 3 bits and back, the 4-bit step it learned is still
there, and an optimizer skips the inactive steps (their gradient is `None`), so each step keeps
its own momentum. In the `fresh` mode the bank doubles as a cache of the initial steps, which
depend only on the float weights and calibration data.

Weights are quantized per output channel (dimension 0), signed and symmetric. Activations (the
input of a layer) are quantized per tensor; they are unsigned if every calibration value was
>= 0 (a ReLU or ReLU6 feeds the layer) and signed otherwise (the network's input, a linear
bottleneck's output). Deciding from the data rather than from the graph works for any model
without knowing which modules precede which.

The gradient scale is LSQ's `1 / sqrt(n * q_max)` with `n` the elements one step governs: the
weights of one output channel, or the features of one example (`numel / batch`) for activations.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from amed_opt.evaluation.quantization._lsq import MIN_STEP
from amed_opt.evaluation.quantization._lsq import fake_quantize
from amed_opt.evaluation.quantization._lsq import fused_fake_quantize
from amed_opt.evaluation.quantization._lsq import mse_optimal_step
from amed_opt.evaluation.quantization._lsq import quant_range
from amed_opt.study.bits import MAX_BITS
from amed_opt.study.bits import MIN_BITS


BIT_CHOICES = tuple(range(MIN_BITS, MAX_BITS + 1))
"""Bitwidths a quantizer has a step for."""

SAMPLE_SIZE = 1 << 16
"""Calibration values kept per layer input to initialize activation steps."""


def check_bits(bits: int) -> int:
    """`bits` if it is an integer in [2, 8].

    Raises:
        ValueError: Otherwise.
    """
    if isinstance(bits, bool) or not isinstance(bits, int) or bits not in BIT_CHOICES:
        raise ValueError(f"bits must be an integer in [{MIN_BITS}, {MAX_BITS}], got {bits!r}")
    return bits


class LsqQuantizer(nn.Module):
    """A bank of LSQ steps (see the module docstring); subclasses say how steps are initialized.

    Args:
        step_shape: Shape of one step: `(channels, 1, ..., 1)` per channel, `(1,)` per tensor.
        signed: Whether the integer range is symmetric around zero.
        bits: Initially active bitwidth.
        device: Where the steps live.
    """

    initialized: torch.Tensor
    signed_flag: torch.Tensor

    def __init__(
        self,
        step_shape: tuple[int, ...],
        *,
        signed: bool,
        bits: int = MAX_BITS,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.steps = nn.ParameterList(
            nn.Parameter(torch.ones(step_shape, device=device)) for _ in BIT_CHOICES
        )
        self.register_buffer(
            "initialized", torch.zeros(len(BIT_CHOICES), dtype=torch.bool, device=device)
        )
        self.register_buffer("signed_flag", torch.tensor(signed, device=device))
        self._bits = check_bits(bits)

    @property
    def bits(self) -> int:
        """The active bitwidth."""
        return self._bits

    @bits.setter
    def bits(self, value: int) -> None:
        self._bits = check_bits(value)

    @property
    def signed(self) -> bool:
        """Whether codes are signed (`-(2^(b-1)-1) .. 2^(b-1)-1`) or unsigned (`0 .. 2^b-1`)."""
        return bool(self.signed_flag)

    @property
    def q_range(self) -> tuple[int, int]:
        """`(q_min, q_max)` of the active bitwidth."""
        return quant_range(self._bits, signed=self.signed)

    @property
    def step(self) -> nn.Parameter:
        """The step of the active bitwidth."""
        step: nn.Parameter = self.steps[self._bits - MIN_BITS]
        return step

    def has_step(self, bits: int | None = None) -> bool:
        """Whether the step of `bits` (default: the active one) has been initialized."""
        index = (self._bits if bits is None else check_bits(bits)) - MIN_BITS
        return bool(self.initialized[index])

    def initialize_step(self, reference: torch.Tensor, bits: int | None = None) -> None:
        """Set the step of `bits` (default: active) to the MSE-optimal one for `reference`."""
        bits = self._bits if bits is None else check_bits(bits)
        q_min, q_max = quant_range(bits, signed=self.signed)
        per_channel = self.steps[0].numel() > 1
        with torch.no_grad():
            value = mse_optimal_step(reference, q_min=q_min, q_max=q_max, per_channel=per_channel)
            step = self.steps[bits - MIN_BITS]
            step.copy_(value.reshape(step.shape).to(step.dtype))
            self.initialized[bits - MIN_BITS] = True

    def forget_steps(self) -> None:
        """Mark every step uninitialized (they are re-initialized when next used)."""
        self.initialized.fill_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fake-quantize `x` with the active step.

        Uses the autograd function when a gradient is needed, else PyTorch's fused kernel.

        Raises:
            RuntimeError: If the active step has not been initialized.
        """
        if not self.has_step():
            raise RuntimeError(
                f"the {self._bits}-bit step is not initialized; "
                "calibrate the model (amed_opt.evaluation.quantization.calibrate) "
                "before running it"
            )
        raw_step = self.step
        step = raw_step.clamp_min(MIN_STEP)
        q_min, q_max = self.q_range
        needs_grad = torch.is_grad_enabled() and (x.requires_grad or raw_step.requires_grad)
        if needs_grad or x.dtype != torch.float32:
            elements_per_step = max(1, x.numel() // x.shape[0])
            grad_scale = 1.0 / math.sqrt(elements_per_step * q_max)
            return fake_quantize(x, step, q_min, q_max, grad_scale)
        return fused_fake_quantize(x, step, q_min, q_max)

    def extra_repr(self) -> str:
        kind = "signed" if self.signed else "unsigned"
        return f"bits={self._bits}, {kind}, step_shape={tuple(self.steps[0].shape)}"

    def __repr__(self) -> str:
        # One line: printing the seven steps of every layer would drown the model's structure.
        return f"{type(self).__name__}({self.extra_repr()})"


class WeightQuantizer(LsqQuantizer):
    """Signed, per-output-channel weight quantizer; steps are initialized from the weights.

    Args:
        weight: The weight it will quantize (for its shape and device).
        bits: Initially active bitwidth.
    """

    def __init__(self, weight: torch.Tensor, *, bits: int = MAX_BITS) -> None:
        step_shape = (weight.shape[0], *([1] * (weight.dim() - 1)))
        super().__init__(step_shape, signed=True, bits=bits, device=weight.device)

    def ensure_step(self, weight: torch.Tensor) -> None:
        """Initialize the active step from `weight` if it has never been used."""
        if not self.has_step():
            self.initialize_step(weight)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        """Fake-quantize `weight`, initializing the active step from it on first use."""
        self.ensure_step(weight)
        return super().forward(weight)


class ActivationQuantizer(LsqQuantizer):
    """Per-tensor input quantizer; signedness and steps come from a calibration sample.

    Calibration (`start_observing`, `observe` per batch, `finish_observing`) records up to
    `SAMPLE_SIZE` random values of the layer's input plus its extremes, decides the signedness,
    and forgets previous steps; each bitwidth's step is then initialized from the sample when it
    is first used.

    Args:
        bits: Initially active bitwidth.
        device: Where the step lives.
    """

    sample: torch.Tensor | None

    def __init__(self, *, bits: int = MAX_BITS, device: torch.device | str | None = None) -> None:
        super().__init__((1,), signed=True, bits=bits, device=device)
        # Not persistent: a saved model carries its steps and signedness, not the raw sample.
        self.register_buffer("sample", None, persistent=False)
        self._chunks: list[torch.Tensor] = []
        self._low = math.inf
        self._high = -math.inf

    @property
    def calibrated(self) -> bool:
        """Whether a calibration sample has been recorded."""
        return self.sample is not None

    def start_observing(self) -> None:
        """Begin a new calibration sample, discarding any previous one."""
        self._chunks = []
        self._low = math.inf
        self._high = -math.inf

    def observe(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """Add a batch of inputs to the sample.

        Args:
            x: A batch of the layer's input.
            generator: CPU random generator choosing which values are kept.
        """
        flat = x.detach().reshape(-1).float()
        if flat.numel() == 0:
            return
        self._low = min(self._low, float(flat.min()))
        self._high = max(self._high, float(flat.max()))
        if flat.numel() > SAMPLE_SIZE:
            index = torch.randint(flat.numel(), (SAMPLE_SIZE,), generator=generator)
            flat = flat[index.to(flat.device)]
        self._chunks.append(flat.clone())

    def finish_observing(self, generator: torch.Generator) -> None:
        """Freeze the sample, decide signedness and forget all steps.

        Raises:
            RuntimeError: If nothing was observed.
        """
        if not self._chunks:
            raise RuntimeError("no calibration values were observed for this layer")
        sample = torch.cat(self._chunks)
        if sample.numel() > SAMPLE_SIZE:
            index = torch.randperm(sample.numel(), generator=generator)[:SAMPLE_SIZE]
            sample = sample[index.to(sample.device)]
        # The extremes join the sample so that the step search spans the true range.
        extremes = torch.tensor([self._low, self._high], device=sample.device)
        self.sample = torch.cat([sample, extremes])
        self.signed_flag.fill_(self._low < 0)
        self.forget_steps()
        self._chunks = []

    def ensure_step(self) -> None:
        """Initialize the active step from the calibration sample if it has never been used.

        Raises:
            RuntimeError: If the step is needed but no calibration sample exists.
        """
        if self.has_step():
            return
        if self.sample is None:
            raise RuntimeError(
                f"no {self.bits}-bit activation step and no calibration sample; "
                "calibrate the model (amed_opt.evaluation.quantization.calibrate) first"
            )
        self.initialize_step(self.sample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fake-quantize `x`, initializing the active step from the sample on first use.

        Raises:
            RuntimeError: If the model was never calibrated.
        """
        self.ensure_step()
        return super().forward(x)
