"""A bitwidth-aware systolic-array latency model, compatible with SCALE-Sim.

Imports nothing beyond the standard library and numpy (no torch, no optuna).
"""

from hardware.layer import GemmShape
from hardware.layer import LayerKind
from hardware.layer import LayerShape
from hardware.protocol import Bound
from hardware.protocol import HardwareModel
from hardware.protocol import LayerLatency
from hardware.protocol import NetworkLatency
from hardware.protocol import network_latency


__all__ = [
    "Bound",
    "GemmShape",
    "HardwareModel",
    "LayerKind",
    "LayerLatency",
    "LayerShape",
    "NetworkLatency",
    "network_latency",
]
