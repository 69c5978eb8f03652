"""Study specifications: the single source of configuration, loaded once from TOML.

A study file (`studies/r18.toml`) is read into frozen dataclasses and validated before anything
is built: every key must be known, every value must have the right type and range, and an error
names the file, the key and the reason. Library code receives these typed objects; nothing below
`amed_opt.run` reads argv, the environment or globals.

This module is the public face of the spec; the code lives by concept in

- `spec_checks`: `SpecError` and the field checks every section runs in `__post_init__`, so no
  way of building a spec (file, code, `dataclasses.replace`) skips one;
- `spec_enums`: the choices a study file names by string;
- `spec_sections`: the sections (`ModelSpec`, ..., `StorageSpec`), each field documented in its
  class docstring;
- `spec_study`: `StudySpec`, the whole study;
- `spec_toml`: finding and reading study files (`load_spec("r18")` reads `studies/r18.toml`;
  any other argument is a path);
- `spec_overrides`: command-line overrides and the settings that decide whether a stored study
  may be resumed.
"""

from __future__ import annotations

from amed_opt.study.spec_checks import SpecError
from amed_opt.study.spec_enums import AccuracyModel
from amed_opt.study.spec_enums import ChainStart
from amed_opt.study.spec_enums import ChainWeights
from amed_opt.study.spec_enums import EvaluatorMode
from amed_opt.study.spec_enums import LayerChoice
from amed_opt.study.spec_enums import ProposalBoundary
from amed_opt.study.spec_enums import SamplerName
from amed_opt.study.spec_enums import SmallMoveOrder
from amed_opt.study.spec_overrides import effective_settings
from amed_opt.study.spec_overrides import with_overrides
from amed_opt.study.spec_sections import MIN_RESOLUTION
from amed_opt.study.spec_sections import OBJECTIVE_NAMES
from amed_opt.study.spec_sections import BaselineSpec
from amed_opt.study.spec_sections import DataSpec
from amed_opt.study.spec_sections import EvaluatorSpec
from amed_opt.study.spec_sections import HardwareSpec
from amed_opt.study.spec_sections import ModelSpec
from amed_opt.study.spec_sections import SamplerSpec
from amed_opt.study.spec_sections import SearchSpec
from amed_opt.study.spec_sections import StorageSpec
from amed_opt.study.spec_study import StudySpec
from amed_opt.study.spec_toml import STUDIES_DIR
from amed_opt.study.spec_toml import available_studies
from amed_opt.study.spec_toml import load_spec
from amed_opt.study.spec_toml import parse_spec
from amed_opt.study.spec_toml import resolve_study_path


__all__ = [
    "MIN_RESOLUTION",
    "OBJECTIVE_NAMES",
    "STUDIES_DIR",
    "AccuracyModel",
    "BaselineSpec",
    "ChainStart",
    "ChainWeights",
    "LayerChoice",
    "SmallMoveOrder",
    "DataSpec",
    "EvaluatorMode",
    "EvaluatorSpec",
    "HardwareSpec",
    "ModelSpec",
    "ProposalBoundary",
    "SamplerName",
    "SamplerSpec",
    "SearchSpec",
    "SpecError",
    "StorageSpec",
    "StudySpec",
    "available_studies",
    "effective_settings",
    "load_spec",
    "parse_spec",
    "resolve_study_path",
    "with_overrides",
]
