"""The uniform allocations of a comparison: every searched layer at 2, 3, ..., 8 bits.

They live in one study of the comparison's storage (`plan.uniform_study_name`), one trial each,
measured by the same objective as the searches, once. The study also records the layers' shapes
and per-bitwidth cycles on the comparison's hardware (`layer_info`), for the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

import optuna
from optuna.trial import TrialState

from amed_opt.app import Components
from amed_opt.app import RunOptions
from amed_opt.app import build_components
from amed_opt.compare._plan import LAYER_INFO_ATTR
from amed_opt.study.naming import REFERENCE_ENERGY_ATTR
from amed_opt.study.naming import REFERENCE_LATENCY_ATTR
from amed_opt.study.naming import SPEC_ATTR
from amed_opt.study.naming import directions
from amed_opt.study.objective import Objective
from amed_opt.study.provenance import git_commit
from amed_opt.study.spec import EvaluatorMode
from hardware import Bound


if TYPE_CHECKING:
    from amed_opt.compare._plan import ComparisonPlan


def layer_info(components: Components) -> list[dict[str, Any]]:
    """Shape, size and per-bitwidth cycles and bound of every layer (for reports)."""
    info = []
    searched = {layer.name for layer in components.space.searched_layers}
    for index, layer in enumerate(components.layers):
        by_bits = {
            str(bits): components.hardware.layer_latency(layer, bits, bits)
            for bits in components.space.candidate_bits
        }
        info.append(
            {
                "index": index,
                "name": layer.name,
                "kind": layer.kind.value,
                "in_channels": layer.in_channels,
                "out_channels": layer.out_channels,
                "input_hw": [layer.input_h, layer.input_w],
                "kernel": [layer.kernel_h, layer.kernel_w],
                "groups": layer.groups,
                "depthwise": layer.groups > 1 and layer.groups == layer.in_channels,
                "weight_count": layer.weight_count,
                "macs": layer.macs,
                "searched": layer.name in searched,
                "cycles": {bits: lat.total_cycles for bits, lat in by_bits.items()},
                "memory_bound": {bits: lat.bound is Bound.MEMORY for bits, lat in by_bits.items()},
            }
        )
    return info


def run_uniform(
    plan: ComparisonPlan,
    storage: optuna.storages.BaseStorage,
    components: Components,
    options: RunOptions,
) -> int:
    """Measure the uniform allocations (every searched layer at 2, 3, ..., 8 bits) once.

    They live in the study `plan.uniform_study_name`, one trial each, measured by the same
    objective as the searches. In `shared` mode each gets a new evaluator (trained
    `steps_per_trial` steps from the float weights).

    Returns:
        The number measured now.
    """
    study = optuna.create_study(
        study_name=plan.uniform_study_name,
        storage=storage,
        directions=directions(plan.spec.objectives),
        sampler=optuna.samplers.RandomSampler(seed=plan.spec.seed),
        load_if_exists=True,
    )
    if not study.user_attrs:
        study.set_metric_names(list(plan.spec.objectives))
        study.set_user_attr(SPEC_ATTR, plan.spec.to_dict())
        study.set_user_attr(REFERENCE_LATENCY_ATTR, components.reference_latency_ms)
        study.set_user_attr(REFERENCE_ENERGY_ATTR, components.reference_energy_uj)
        study.set_user_attr("git_commit", git_commit())
        study.set_user_attr(LAYER_INFO_ATTR, layer_info(components))
    done = {
        trial.user_attrs.get("bits")
        for trial in study.get_trials(deepcopy=False)
        if trial.state == TrialState.COMPLETE
    }
    space = components.space
    ran = 0
    for bits in space.candidate_bits:
        allocation = space.uniform_bits(bits)
        if allocation.compact() in done:
            continue
        evaluator = components.evaluator
        if plan.spec.evaluator.mode is EvaluatorMode.SHARED:
            evaluator = build_components(plan.spec, options).evaluator
        objective = Objective(
            evaluator,
            space,
            max_size_bytes=components.max_size_bytes,
            objectives=plan.spec.objectives,
        )
        study.enqueue_trial(space.uniform_params(bits))
        study.optimize(objective, n_trials=1, catch=(), gc_after_trial=False)
        ran += 1
    return ran
