"""A bitwidth-aware systolic-array latency model, compatible with SCALE-Sim.

`SystolicArray(load_preset("scale-sim"))` prices a `LayerShape` at given weight and activation
bitwidths (`layer_latency`); `network_latency` sums a network. Anything with the same
`layer_latency` method and `name` / `clock_hz` attributes is a `HardwareModel` too.

Imports nothing beyond the standard library (no torch, no optuna).
"""

from hardware.config import Dataflow
from hardware.config import PrecisionModel
from hardware.config import SerialOperand
from hardware.config import SystolicArrayConfig
from hardware.config import available_presets
from hardware.config import load_preset
from hardware.layer import GemmShape
from hardware.layer import LayerKind
from hardware.layer import LayerShape
from hardware.protocol import Bound
from hardware.protocol import HardwareModel
from hardware.protocol import LayerLatency
from hardware.protocol import NetworkLatency
from hardware.protocol import network_latency
from hardware.systolic_array import LayerReport
from hardware.systolic_array import SystolicArray


__all__ = [
    "Bound",
    "Dataflow",
    "GemmShape",
    "HardwareModel",
    "LayerKind",
    "LayerLatency",
    "LayerReport",
    "LayerShape",
    "NetworkLatency",
    "PrecisionModel",
    "SerialOperand",
    "SystolicArray",
    "SystolicArrayConfig",
    "available_presets",
    "load_preset",
    "network_latency",
]
