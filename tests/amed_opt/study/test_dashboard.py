"""optuna-dashboard, driven in process through its own WSGI app: the study shows with named
objectives, user attributes, the Markdown note and the allocation images of Pareto trials."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna_dashboard import wsgi

from amed_opt.run import main
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.dashboard import render_allocation_png
from hardware import LayerShape


STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"


def _get(app: Any, path: str) -> tuple[str, bytes]:
    # The dashboard caches trial lists for a few seconds; clear it so each call sees the storage.
    cache = getattr(app, "_inmemory_cache", None)
    if cache is not None:
        cache.clear()
    captured: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = status

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
    }
    body = b"".join(app(environ, start_response))
    return captured["status"], body


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("dashboard")
    results = root / "results"
    args = ["--study", str(STUDY), "--n-trials", "8", "--no-progress"]
    assert main([*args, "--results-dir", str(results), "--cache-dir", str(root / "cache")]) == 0
    return f"sqlite:///{results / 'synthetic-r18.db'}", results / "synthetic-r18_artifacts"


def test_dashboard_lists_the_study_with_named_objectives_and_attributes(
    finished_study: tuple[str, Path],
) -> None:
    url, artifact_dir = finished_study
    storage = optuna.storages.RDBStorage(url)
    from optuna.artifacts import FileSystemArtifactStore

    app = wsgi(storage, artifact_store=FileSystemArtifactStore(str(artifact_dir)))
    status, body = _get(app, "/api/studies")
    assert status.startswith("200")
    summaries = json.loads(body)["study_summaries"]
    summary = next(s for s in summaries if s["study_name"] == "synthetic-r18-amed-seed0")
    assert [d for d in summary["directions"]] == ["maximize", "minimize"]

    status, body = _get(app, f"/api/studies/{summary['study_id']}")
    assert status.startswith("200")
    detail = json.loads(body)
    assert detail["objective_names"] == ["accuracy", "latency_ms"]
    assert "## Hardware" in detail["note"]["body"] and "scale-sim" in detail["note"]["body"]
    trial = detail["trials"][0]
    keys = {attr["key"] for attr in trial["user_attrs"]}
    assert {"bits", "latency_cycles", "size_bytes", "cycles_by_layer", "mh_accepted"} <= keys
    assert len(trial["params"]) == 19
    best_numbers = {t["number"] for t in detail["best_trials"]}
    assert best_numbers
    for best in detail["trials"]:
        if best["number"] in best_numbers:
            assert best["artifacts"], f"Pareto trial {best['number']} has no allocation image"
            artifact = best["artifacts"][0]
            assert artifact["mimetype"] == "image/png"
            status, png = _get(
                app,
                f"/artifacts/{summary['study_id']}/{best['trial_id']}/{artifact['artifact_id']}",
            )
            assert status.startswith("200") and png.startswith(b"\x89PNG")
            note = best["note"]["body"]
            assert f"--trial {best['number']} --epochs 2 --export" in note
            assert "python -m amed_opt.export --study synthetic-r18 --sampler amed" in note


def test_allocation_image_is_a_png_sized_to_the_network() -> None:
    layers = [
        LayerShape.conv2d(
            f"block{i}.conv", in_channels=8, out_channels=8, input_hw=(8, 8), kernel=3
        )
        for i in range(30)
    ]
    bits = BitConfig({layer.name: LayerBits(2 + i % 7, 8) for i, layer in enumerate(layers)})
    png = render_allocation_png(bits, layers, {layers[0].name: 10}, [layers[1].name], title="t")
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.width >= 30 * 16


def test_allocation_image_labels_the_layers_in_network_order() -> None:
    # One long name first: its label reaches furthest below the axis, under the first bar.
    names = ["conv1_with_a_long_name", "b", "c", "fc"]
    layers = [
        LayerShape.conv2d(name, in_channels=8, out_channels=8, input_hw=(8, 8), kernel=3)
        for name in names
    ]
    bits = BitConfig({name: LayerBits(4, 8) for name in names})
    png = render_allocation_png(bits, layers, None, [], title="t")
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    left, step, axis = 40, 16, 34 + 180  # render_allocation_png's layout
    label_rows = range(axis + 4, axis + 4 + 6 * len(names[0]) + 10)

    def label_depth(index: int) -> int:
        columns = range(left + index * step, left + (index + 1) * step)
        inked = [
            y for y in label_rows for x in columns if image.getpixel((x, y)) != (255, 255, 255)
        ]
        return max(inked) - axis

    depths = [label_depth(index) for index in range(len(names))]
    assert depths[0] > 3 * max(depths[1:]), depths
