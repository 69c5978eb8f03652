"""How bits change latency and energy on each preset, at the accuracy input and deployed input.

`python benchmarks/pricing.py [--studies r18 mbv2] [--resolutions 28 224]` prints, for each
study's network (traced with the study's dataset channels and classes, as `amed_opt.run` builds
it) and each input side: per preset, the uniform 8-bit latency, the uniform 2-bit / 8-bit
latency ratio, the uniform 8-bit energy per inference with its split (MAC, SRAMs, DRAM, leakage)
and the 2-bit / 8-bit energy ratio. Pricing only: no data, no training.
"""

from __future__ import annotations

import argparse

from amed_opt.evaluation.datasets import LOADERS
from amed_opt.evaluation.models import build_model
from amed_opt.evaluation.models import quantizable_layers
from amed_opt.study.spec import load_spec
from hardware import SystolicArray
from hardware import available_presets
from hardware import load_preset
from hardware import network_energy
from hardware import network_latency


# Channels and classes of the datasets the shipped studies use (read without loading images).
_DATASET_SHAPES = {"fashion-mnist": (1, 10), "cifar10": (3, 10), "cifar100": (3, 100)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", nargs="+", default=["r18", "mbv2"])
    parser.add_argument("--resolutions", nargs="+", type=int, default=[28, 224])
    args = parser.parse_args()
    assert set(_DATASET_SHAPES) <= set(LOADERS)
    for study in args.studies:
        spec = load_spec(study)
        channels, classes = _DATASET_SHAPES[spec.data.dataset]
        for side in args.resolutions:
            model = build_model(
                spec.model, in_channels=channels, num_classes=classes, input_hw=(side, side)
            )
            layers = quantizable_layers(model, (channels, side, side))
            shape = f"{channels}x{side}x{side}"
            print(f"\n{spec.model.arch} ({study}), input {shape}, {len(layers)} layers")
            print(
                f"{'preset':18s} {'8-bit ms':>9s} {'2/8 lat':>8s} {'8-bit µJ':>9s} "
                f"{'MAC':>7s} {'SRAM':>7s} {'DRAM':>8s} {'leak':>5s} {'2/8 energy':>10s}"
            )
            for preset in available_presets():
                array = SystolicArray(load_preset(preset))
                eight, two = [(8, 8)] * len(layers), [(2, 2)] * len(layers)
                lat8 = network_latency(array, layers, eight)
                lat2 = network_latency(array, layers, two)
                e8 = network_energy(array, layers, eight)
                e2 = network_energy(array, layers, two)
                parts = e8.parts_uj
                sram = parts["ifmap_sram"] + parts["filter_sram"] + parts["ofmap_sram"]
                ratio = lat2.total_cycles / lat8.total_cycles
                print(
                    f"{preset:18s} {lat8.latency_ms:9.3f} {ratio:8.2f} "
                    f"{e8.total_uj:9.1f} {parts['mac']:7.1f} {sram:7.1f} {parts['dram']:8.1f} "
                    f"{parts['leakage']:5.1f} {e2.total_uj / e8.total_uj:10.2f}"
                )


if __name__ == "__main__":
    main()
