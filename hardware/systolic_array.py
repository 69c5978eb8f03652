"""`SystolicArray`: the built-in `HardwareModel`, composing precision, compute and memory.

Pricing a layer at `(w_bits, a_bits)`:

1. the precision model gives the MACs per PE per cycle (`hardware.precision`);
2. the dataflow folds the layer's per-group GEMM onto the array and counts compute cycles
   (`hardware.compute`), exactly SCALE-Sim's at 8 bits;
3. the memory model prices the DRAM traffic and the stalls it causes (`hardware.memory`);
4. a grouped (depthwise) layer runs its groups one after another, as SCALE-Sim runs a depthwise
   layer channel by channel, so every count is the per-group count times `groups`;
5. the energy model prices those counts with the preset's energy table (`hardware.energy`).

Results are pure functions of `(layer, w_bits, a_bits)` and the configuration, so they are
memoised per instance: a study prices a few dozen layers at a few bit pairs thousands of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hardware.compute import DATAFLOW_MODELS
from hardware.compute import ComputeProfile
from hardware.compute import SramAccesses
from hardware.compute import compute_profile
from hardware.config import SystolicArrayConfig
from hardware.energy import mac_energy_pj
from hardware.energy import price_layer_energy
from hardware.layer import LayerShape
from hardware.memory import MemoryProfile
from hardware.memory import memory_profile
from hardware.memory import operand_sizes
from hardware.precision import check_bits
from hardware.precision import macs_per_pe_cycle
from hardware.protocol import Bound
from hardware.protocol import LayerEnergy
from hardware.protocol import LayerLatency


@dataclass(frozen=True, slots=True)
class LayerReport:
    """Everything the model knows about one layer at one bitwidth pair.

    Per-group profiles are kept as they are; the properties give whole-layer numbers.

    Attributes:
        layer: The layer.
        w_bits: Weight bitwidth.
        a_bits: Activation bitwidth.
        macs_per_pe_cycle: PE throughput at these bitwidths (1 at 8 bits).
        compute: Compute profile of one group.
        memory: Memory profile of one group.
        energy: Energy of the whole layer (all groups), in pJ.
    """

    layer: LayerShape
    w_bits: int
    a_bits: int
    macs_per_pe_cycle: Fraction
    compute: ComputeProfile
    memory: MemoryProfile
    energy: LayerEnergy

    @property
    def groups(self) -> int:
        """Independent GEMMs the layer runs, one after another."""
        return self.layer.groups

    @property
    def compute_cycles(self) -> int:
        """Cycles with a memory that always keeps up."""
        return self.groups * self.compute.compute_cycles

    @property
    def stall_cycles(self) -> int:
        """Cycles spent waiting for the DRAM link."""
        return self.groups * self.memory.stall_cycles

    @property
    def total_cycles(self) -> int:
        """Compute plus stall cycles (SCALE-Sim's `Total Cycles`)."""
        return self.compute_cycles + self.stall_cycles

    @property
    def total_cycles_incl_prefetch(self) -> int:
        """Total cycles plus loading the first tiles and draining the last outputs."""
        per_group = self.memory.prefetch_cycles + self.memory.drain_cycles
        return self.total_cycles + self.groups * per_group

    @property
    def dram_bytes(self) -> int:
        """Bytes over the DRAM link, reads and writes, all groups."""
        return self.groups * self.memory.dram_bytes

    @property
    def sram_accesses(self) -> SramAccesses:
        """SRAM accesses of all groups, in elements (SCALE-Sim's words at 8 bits)."""
        sram = self.compute.sram
        return SramAccesses(
            ifmap_reads=self.groups * sram.ifmap_reads,
            filter_reads=self.groups * sram.filter_reads,
            ofmap_writes=self.groups * sram.ofmap_writes,
        )

    @property
    def mapping_efficiency(self) -> float:
        """Fraction of PEs holding work, averaged over folds (same for every group)."""
        return self.compute.mapping_efficiency

    @property
    def compute_utilization(self) -> float:
        """SCALE-Sim's compute utilization, a fraction (same for every group)."""
        return self.compute.compute_utilization

    @property
    def overall_utilization(self) -> float:
        """MACs over the MAC slots of the array during `total_cycles`, a fraction."""
        slots = self.total_cycles * self.compute.array_rows * self.compute.array_cols
        return float(self.layer.macs / (slots * self.macs_per_pe_cycle))

    @property
    def bound(self) -> Bound:
        """`MEMORY` when the layer stalls on DRAM, else `COMPUTE`."""
        return Bound.MEMORY if self.stall_cycles > 0 else Bound.COMPUTE

    def latency(self) -> LayerLatency:
        """The `HardwareModel` view of this report."""
        return LayerLatency(
            name=self.layer.name,
            w_bits=self.w_bits,
            a_bits=self.a_bits,
            compute_cycles=self.compute_cycles,
            stall_cycles=self.stall_cycles,
            dram_bytes=self.dram_bytes,
        )


class SystolicArray:
    """A systolic-array accelerator that prices layers (implements `HardwareModel` and
    `EnergyModel`).

    Args:
        config: The accelerator (see `load_preset`).

    Example:
        >>> from hardware import LayerShape, SystolicArray, load_preset
        >>> array = SystolicArray(load_preset("scale-sim"))
        >>> fc = LayerShape.linear("fc", in_features=512, out_features=10)
        >>> array.layer_latency(fc, w_bits=8, a_bits=8).compute_cycles
        573
        >>> round(array.layer_energy(fc, w_bits=8, a_bits=8).total_pj)
        946571
    """

    def __init__(self, config: SystolicArrayConfig) -> None:
        self.config = config
        self.name: str = config.name
        self.clock_hz: float = config.clock_hz
        self._dataflow = DATAFLOW_MODELS[config.dataflow]
        self._sram_half_bits = config.sram_half_bits()
        self._reports: dict[tuple[LayerShape, int, int], LayerReport] = {}
        self._latencies: dict[tuple[LayerShape, int, int], LayerLatency] = {}
        self._energies: dict[tuple[LayerShape, int, int], LayerEnergy] = {}

    def __repr__(self) -> str:
        return f"SystolicArray({self.config!r})"

    def layer_latency(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerLatency:
        """Latency of `layer` with `w_bits`-bit weights and `a_bits`-bit input activations.

        Raises:
            ValueError: If a bitwidth is not an integer in 2..8.
        """
        key = (layer, w_bits, a_bits)
        cached = self._latencies.get(key)
        if cached is None:
            cached = self._latencies[key] = self.layer_report(layer, w_bits, a_bits).latency()
        return cached

    def layer_energy(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerEnergy:
        """Energy of one inference of `layer` at `w_bits` / `a_bits` bits, in pJ, by part.

        Raises:
            ValueError: If a bitwidth is not an integer in 2..8.
        """
        key = (layer, w_bits, a_bits)
        cached = self._energies.get(key)
        if cached is None:
            cached = self._energies[key] = self.layer_report(layer, w_bits, a_bits).energy
        return cached

    def layer_report(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerReport:
        """The full report (folds, utilization, traffic) behind `layer_latency`.

        Raises:
            ValueError: If a bitwidth is not an integer in 2..8.
        """
        key = (layer, w_bits, a_bits)
        cached = self._reports.get(key)
        if cached is None:
            cached = self._reports[key] = self._price(layer, w_bits, a_bits)
        return cached

    def _price(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerReport:
        w_bits = check_bits("w_bits", w_bits)
        a_bits = check_bits("a_bits", a_bits)
        config = self.config
        speedup = macs_per_pe_cycle(config.precision_model, w_bits, a_bits, config.serial_operand)
        compute = compute_profile(
            layer.gemm,
            rows=config.rows,
            cols=config.cols,
            dataflow=config.dataflow,
            speedup=speedup,
        )
        memory = memory_profile(
            compute,
            self._dataflow.roles,
            operand_sizes(layer),
            w_bits=w_bits,
            a_bits=a_bits,
            ofmap_bits=config.ofmap_bits,
            sram_half_bits=self._sram_half_bits,
            dram_bytes_per_cycle=config.dram_bytes_per_cycle,
        )
        energy = price_layer_energy(
            layer,
            w_bits=w_bits,
            a_bits=a_bits,
            ofmap_bits=config.ofmap_bits,
            compute=compute,
            memory=memory,
            mac_pj=mac_energy_pj(config.energy, config.precision_model, speedup),
            table=config.energy,
        )
        return LayerReport(
            layer=layer,
            w_bits=w_bits,
            a_bits=a_bits,
            macs_per_pe_cycle=speedup,
            compute=compute,
            memory=memory,
            energy=energy,
        )
