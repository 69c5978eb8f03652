"""Fixtures for the torch side: a tiny CNN, synthetic data and a toy hardware model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

from amed_opt.evaluation.data import DataSplits
from amed_opt.evaluation.data import Loaders
from amed_opt.evaluation.data import load_data
from amed_opt.evaluation.data import make_loaders
from amed_opt.evaluation.training import seeded
from amed_opt.evaluation.training import sgd
from amed_opt.evaluation.training import train_step
from amed_opt.study.spec import DataSpec
from hardware import LayerLatency
from hardware import LayerShape


CPU = torch.device("cpu")

SYNTHETIC = DataSpec(
    dataset="synthetic",
    resolution=8,
    validation_images=96,
    calibration_images=64,
    batch_size=16,
    eval_batch_size=48,
)
"""Small enough that a tiny CNN trains and evaluates in well under a second."""


@dataclass
class ToyHardware:
    """A made-up hardware model for tests: cycles = MACs * w_bits * a_bits / 64."""

    name: str = "toy"
    clock_hz: float = 100e6

    def layer_latency(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerLatency:
        return LayerLatency(
            name=layer.name,
            w_bits=w_bits,
            a_bits=a_bits,
            compute_cycles=max(1, layer.macs * w_bits * a_bits // 64),
            stall_cycles=0,
            dram_bytes=0,
        )


class TinyCnn(nn.Module):
    """Conv-BN-ReLU, a strided conv, a depthwise conv, pooling and a linear classifier."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(in_channels, 8, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(8)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.down_bn = nn.BatchNorm2d(16)
        self.depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.depthwise_bn = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem_bn(self.stem(x)))
        x = torch.relu(self.down_bn(self.down(x)))
        x = torch.relu(self.depthwise_bn(self.depthwise(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


TINY_LAYERS = ("stem", "down", "depthwise", "fc")


def make_tiny_cnn(seed: int = 0) -> TinyCnn:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TinyCnn()


@pytest.fixture
def tiny_cnn() -> TinyCnn:
    """An untrained TinyCnn (seeded), in training mode."""
    return make_tiny_cnn()


@pytest.fixture
def tiny_layer_names() -> tuple[str, ...]:
    """TinyCnn's quantizable layers in forward order."""
    return TINY_LAYERS


@pytest.fixture(scope="session")
def synthetic_spec() -> DataSpec:
    """The data spec of `synthetic_data`."""
    return SYNTHETIC


@pytest.fixture
def toy_hardware() -> ToyHardware:
    return ToyHardware()


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> DataSplits:
    return load_data(SYNTHETIC, seed=0, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def synthetic_loaders(synthetic_data: DataSplits) -> Loaders:
    return make_loaders(synthetic_data, SYNTHETIC)


@pytest.fixture(scope="session")
def _trained_tiny_state(synthetic_loaders: Loaders) -> dict[str, torch.Tensor]:
    model = make_tiny_cnn()
    optimizer = sgd(model, lr=0.05, momentum=0.9, weight_decay=0.0)
    model.train()
    with seeded(0, CPU):
        for _epoch in range(8):
            for images, labels in synthetic_loaders.train:
                train_step(model, optimizer, images, labels, device=CPU)
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.fixture
def trained_tiny_cnn(_trained_tiny_state: dict[str, torch.Tensor]) -> TinyCnn:
    """A TinyCnn trained on the synthetic data (well above chance), in eval mode."""
    model = make_tiny_cnn()
    model.load_state_dict(_trained_tiny_state)
    return model.eval()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"
