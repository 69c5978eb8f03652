"""The package surface: public names, and no heavy dependency on import of any module."""

from __future__ import annotations

import subprocess
import sys

import pytest

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

MODULES = [
    "hardware",
    "hardware.config",
    "hardware.precision",
    "hardware.compute",
    "hardware.compute.output_stationary",
    "hardware.compute.weight_stationary",
    "hardware.compute.input_stationary",
    "hardware.memory",
    "hardware.energy_table",
    "hardware.energy",
    "hardware.protocol",
    "hardware.systolic_array",
    "hardware.scalesim_compat",
    "hardware.__main__",
]


def test_public_names() -> None:
    assert set(hardware.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(hardware, name) is not None


def test_end_to_end_through_the_public_names() -> None:
    array = hardware.SystolicArray(hardware.load_preset("scale-sim"))
    layers = [hardware.LayerShape.linear("fc", in_features=64, out_features=10)]
    result = hardware.network_latency(array, layers, [(4, 4)])
    assert result.total_cycles > 0 and result.latency_ms > 0
    energy = hardware.network_energy(array, layers, [(4, 4)])
    assert energy.total_uj > 0


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_neither_torch_nor_optuna(module: str) -> None:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = {line.split(".")[0] for line in result.stdout.splitlines()}
    assert not loaded & {"torch", "torchvision", "optuna"}, module
