"""The examples of docs/sampler.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import optuna
import pytest


DOC = Path(__file__).resolve().parents[3] / "docs" / "sampler.md"


def test_python_blocks_of_the_sampler_page_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)  # The examples write amed_demo.db into the working directory.
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    namespace: dict[str, object] = {"__name__": "docs_example"}
    try:
        for block in blocks:  # Later blocks build on the names of earlier ones, as in the page.
            exec(compile(block, str(DOC), "exec"), namespace)
    finally:
        optuna.logging.set_verbosity(verbosity)
    output = capsys.readouterr().out
    assert "proposals accepted" in output
    assert (tmp_path / "amed_demo.db").exists()
