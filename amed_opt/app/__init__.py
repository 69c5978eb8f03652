"""The composition root: builds every part of a study from its spec, then runs or resumes it.

The only place that wires the hardware model, the data, the float baseline, the evaluator, the
search space, the sampler and the storage together; every other module takes its dependencies
as arguments. Only the command-line modules (`amed_opt.run`, `amed_opt.compare`,
`amed_opt.finetune`) import it (`tests/test_import_boundaries.py` checks this).
"""

from amed_opt.app.components import Components
from amed_opt.app.components import RunOptions
from amed_opt.app.components import build_components
from amed_opt.app.components import build_hardware
from amed_opt.app.components import torch_device
from amed_opt.app.preflight import check_writable_folder
from amed_opt.app.preflight import preflight
from amed_opt.app.preflight import probe_layers
from amed_opt.app.preflight import storage_url
from amed_opt.app.sampler_factory import build_sampler
from amed_opt.app.study_run import RunResult
from amed_opt.app.study_run import open_study
from amed_opt.app.study_run import result_summary
from amed_opt.app.study_run import run_study


__all__ = [
    "Components",
    "RunOptions",
    "RunResult",
    "build_components",
    "build_hardware",
    "build_sampler",
    "check_writable_folder",
    "preflight",
    "probe_layers",
    "torch_device",
    "open_study",
    "result_summary",
    "run_study",
    "storage_url",
]
