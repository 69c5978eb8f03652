"""Settings shared by every test."""

from __future__ import annotations

from hypothesis import settings


# Property tests check behaviour, not speed: on a loaded 2-core machine hypothesis' default
# 200 ms per-example deadline fails tests that are correct. Speed is measured by benchmarks/.
settings.register_profile("amed-opt", deadline=None)
settings.load_profile("amed-opt")
