"""A bitwidth-aware systolic-array latency model, compatible with SCALE-Sim.

`SystolicArray(load_preset("scale-sim"))` prices a `LayerShape` at given weight and activation
bitwidths: latency (`layer_latency`) and energy in pJ (`layer_energy`); `network_latency` and
`network_energy` (µJ per inference) sum a network. Anything with the same `layer_latency` method
and `name` / `clock_hz` attributes is a `HardwareModel` too; energy is the separate, optional
`EnergyModel` protocol (`layer_energy`).

Imports nothing beyond the standard library (no torch, no optuna).
"""

from hardware.config import Dataflow
from hardware.config import PrecisionModel
from hardware.config import SerialOperand
from hardware.config import SystolicArrayConfig
from hardware.config import available_presets
from hardware.config import load_preset
from hardware.energy_table import DEFAULT_ENERGY_TABLE
from hardware.energy_table import EnergyTable
from hardware.energy_table import TableSource
from hardware.layer import GemmShape
from hardware.layer import LayerKind
from hardware.layer import LayerShape
from hardware.protocol import Bound
from hardware.protocol import EnergyModel
from hardware.protocol import HardwareModel
from hardware.protocol import LayerEnergy
from hardware.protocol import LayerLatency
from hardware.protocol import NetworkEnergy
from hardware.protocol import NetworkLatency
from hardware.protocol import network_energy
from hardware.protocol import network_latency
from hardware.systolic_array import LayerReport
from hardware.systolic_array import SystolicArray


__all__ = [
    "DEFAULT_ENERGY_TABLE",
    "Bound",
    "Dataflow",
    "EnergyModel",
    "EnergyTable",
    "GemmShape",
    "HardwareModel",
    "LayerEnergy",
    "LayerKind",
    "LayerLatency",
    "LayerReport",
    "LayerShape",
    "NetworkEnergy",
    "NetworkLatency",
    "PrecisionModel",
    "SerialOperand",
    "SystolicArray",
    "SystolicArrayConfig",
    "TableSource",
    "available_presets",
    "load_preset",
    "network_energy",
    "network_latency",
]
