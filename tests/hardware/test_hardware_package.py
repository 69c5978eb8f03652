"""The package surface: its public names work end to end (imports are checked for every
module of the tree by tests/test_import_boundaries.py)."""

from __future__ import annotations

import hardware


PUBLIC = {
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
}


def test_public_names() -> None:
    assert set(hardware.__all__) == PUBLIC
    assert [name for name in PUBLIC if not hasattr(hardware, name)] == []


def test_end_to_end_through_the_public_names() -> None:
    array = hardware.SystolicArray(hardware.load_preset("scale-sim"))
    layers = [hardware.LayerShape.linear("fc", in_features=64, out_features=10)]
    result = hardware.network_latency(array, layers, [(4, 4)])
    assert result.total_cycles > 0 and result.latency_ms > 0
    energy = hardware.network_energy(array, layers, [(4, 4)])
    assert energy.total_uj > 0
