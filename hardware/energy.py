"""Energy model: what one layer costs in picojoules, from the latency model's counts.

`SystolicArray` prices a layer's energy from the same counts it prices latency with (nothing is
simulated twice) and the preset's `EnergyTable` (`hardware.energy_table`), following the usual
accounting of accelerator cost models (actions times energy per action, as in Accelergy and
ZigZag): per group of the layer, with `b/8` the bytes of a `b`-bit value (operands bit-packed),

- MAC: `macs * e_mac(w, a)`, only the MACs the layer performs (idle PEs are clock-gated);
- ifmap SRAM: `e_ifmap * (ifmap_reads * a/8 + ifmap_dram_bytes)`: the array's reads (SCALE-Sim's
  SRAM read count, `hardware.compute`) plus the bytes filled from DRAM;
- filter SRAM: `e_filter * (filter_reads * w/8 + filter_dram_bytes)`;
- ofmap SRAM: `e_ofmap * ((ofmap_writes + psum_reads) * o/8 + ofmap_dram_bytes)`, with
  `o = ofmap_bits`; `psum_reads = ofmap_writes - M*N`: every write of an output after its first
  adds to a partial sum that has to be read back (none under output stationary);
- DRAM: `e_dram * dram_bytes` (`hardware.memory`);
- leakage: `e_leak * total_cycles` (compute plus stall cycles).

The energy of one MAC depends on the precision model; `e_mul` and `e_acc` are the table's 8x8-bit
multiply and accumulate, and `s = macs_per_pe_cycle(w, a)` (`hardware.precision`):

- `fixed`: `e_mul + e_acc`. The datapath is 8 bits at any width; a narrower operand is
  sign-extended into it, and how much less it toggles depends on the data (for negative values
  the extension bits toggle like any other), which per-action tables for random data do not
  capture, so no saving is credited: bits save energy only through memory and cycles.
- `bit_fusion`: `e_mul / s + e_acc` = `e_mul * (8/floor(8/w)) * (8/floor(8/a)) / 64 + e_acc`.
  A multiplier's energy grows about with the product of its operand widths (Horowitz, ISSCC
  2014, https://doi.org/10.1109/ISSCC.2014.6757323: 0.2 pJ at 8 bits, 3.1 pJ at 32 bits,
  15.5x against the product rule's 16x); a fused PE fires all its 2x2-bit bricks every cycle
  and shares them among `s` products, so one product costs the bricks of its fused width (3 bits
  fuse as 4). Each product still enters the wide accumulation once: `e_acc` per MAC.
- `bit_serial`: `(e_mul + e_acc) / s`, i.e. `serial bits * (e_mul + e_acc) / 8` (`w*a/64` of it
  with both operands serial): each bit step ANDs one bit with the parallel operand and
  shift-adds into the accumulator, one eighth of an 8-bit MAC's work, so the table's 8x8 MAC is
  eight steps and a `b`-bit serial operand costs `b` steps.

Every part is non-increasing when either bitwidth shrinks, for every precision model and
dataflow: MAC energy falls with `s`, SRAM and DRAM bytes fall with the operand sizes, and the
cycles never grow (`hardware.memory`).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING

from hardware.config import WORD_BITS
from hardware.config import PrecisionModel
from hardware.energy_table import EnergyTable
from hardware.protocol import LayerEnergy


if TYPE_CHECKING:
    from hardware.compute import ComputeProfile
    from hardware.layer import LayerShape
    from hardware.memory import MemoryProfile


#: Energy of one MAC in pJ, from the table and the MACs per PE per cycle.
MacEnergyFn = Callable[[EnergyTable, Fraction], float]


def _fixed(table: EnergyTable, speedup: Fraction) -> float:
    return table.mac_multiply_pj + table.mac_accumulate_pj


def _bit_fusion(table: EnergyTable, speedup: Fraction) -> float:
    return table.mac_multiply_pj / float(speedup) + table.mac_accumulate_pj


def _bit_serial(table: EnergyTable, speedup: Fraction) -> float:
    return (table.mac_multiply_pj + table.mac_accumulate_pj) / float(speedup)


MAC_ENERGY: dict[PrecisionModel, MacEnergyFn] = {
    PrecisionModel.FIXED: _fixed,
    PrecisionModel.BIT_FUSION: _bit_fusion,
    PrecisionModel.BIT_SERIAL: _bit_serial,
}


def mac_energy_pj(table: EnergyTable, model: PrecisionModel, speedup: Fraction) -> float:
    """Energy of one MAC in pJ (the module docstring has the formulas).

    Args:
        table: Energy per action.
        model: The precision model.
        speedup: MACs per PE per cycle at the bitwidths (`hardware.precision.macs_per_pe_cycle`).
    """
    return MAC_ENERGY[model](table, speedup)


def price_layer_energy(
    layer: LayerShape,
    *,
    w_bits: int,
    a_bits: int,
    ofmap_bits: int,
    compute: ComputeProfile,
    memory: MemoryProfile,
    mac_pj: float,
    table: EnergyTable,
) -> LayerEnergy:
    """Energy of one inference of `layer`, all groups, in pJ (see the module docstring).

    Args:
        layer: The layer.
        w_bits: Weight bitwidth.
        a_bits: Input activation bitwidth.
        ofmap_bits: Output (and partial-sum) bitwidth.
        compute: Compute profile of one group (SRAM accesses in elements).
        memory: Memory profile of one group (DRAM bytes, stall cycles).
        mac_pj: Energy of one MAC at these bitwidths (`mac_energy_pj`).
        table: Energy per action.
    """
    groups = layer.groups
    sram = compute.sram
    psum_reads = sram.ofmap_writes - layer.gemm.m * layer.gemm.n
    ifmap_bytes = sram.ifmap_reads * a_bits / WORD_BITS + memory.ifmap_dram_bytes
    filter_bytes = sram.filter_reads * w_bits / WORD_BITS + memory.filter_dram_bytes
    ofmap_bytes = (
        sram.ofmap_writes + psum_reads
    ) * ofmap_bits / WORD_BITS + memory.ofmap_dram_bytes
    cycles = compute.compute_cycles + memory.stall_cycles
    return LayerEnergy(
        name=layer.name,
        w_bits=w_bits,
        a_bits=a_bits,
        mac_pj=layer.macs * mac_pj,
        ifmap_sram_pj=groups * ifmap_bytes * table.ifmap_sram_pj_per_byte,
        filter_sram_pj=groups * filter_bytes * table.filter_sram_pj_per_byte,
        ofmap_sram_pj=groups * ofmap_bytes * table.ofmap_sram_pj_per_byte,
        dram_pj=groups * memory.dram_bytes * table.dram_pj_per_byte,
        leakage_pj=groups * cycles * table.leakage_pj_per_cycle,
    )
