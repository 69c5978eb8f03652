"""The Pareto front of a finished study: extraction, a text table, CSV and JSON files.

Reads only what the objective stored (values and user attributes), so it works on any study the
runner wrote, finished or interrupted, and needs no torch.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path

from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from amed_opt.study.files import atomic_write_text
from amed_opt.study.pareto import is_feasible
from amed_opt.study.pareto import pareto_front as pareto_front_of


@dataclass(frozen=True, slots=True)
class FrontPoint:
    """One Pareto-optimal trial.

    Attributes:
        trial_number: The trial's number in its study.
        accuracy: Validation top-1, a fraction.
        latency_ms: Network latency in milliseconds.
        latency_cycles: Network latency in cycles.
        size_bytes: Bit-packed weight storage in bytes.
        bits: The allocation as a compact string, in network order.
    """

    trial_number: int
    accuracy: float
    latency_ms: float
    latency_cycles: int
    size_bytes: int
    bits: str


def pareto_front(trials: Iterable[FrozenTrial]) -> list[FrontPoint]:
    """Feasible complete trials not dominated in (accuracy ↑, latency ↓), by latency.

    Trials with identical values are all kept (they are equally good); the list is sorted by
    latency, then by accuracy descending.
    """
    candidates = [t for t in trials if t.state == TrialState.COMPLETE and is_feasible(t)]
    front = pareto_front_of(
        candidates,
        lambda t: (float(t.values[0]), float(t.values[1])),
        tie_break=lambda t: t.number,
        keep_ties=True,
    )
    return [_to_point(trial) for trial in front]


def _to_point(trial: FrozenTrial) -> FrontPoint:
    attrs = trial.user_attrs
    return FrontPoint(
        trial_number=trial.number,
        accuracy=float(trial.values[0]),
        latency_ms=float(trial.values[1]),
        latency_cycles=int(attrs.get("latency_cycles", -1)),
        size_bytes=int(attrs.get("size_bytes", -1)),
        bits=str(attrs.get("bits", "")),
    )


def format_front(front: Sequence[FrontPoint], *, max_bits_chars: int = 60) -> str:
    """A fixed-width text table of the front, one row per trial."""
    header = f"{'trial':>6}  {'accuracy':>8}  {'latency ms':>10}  {'size KiB':>9}  bits"
    rows = [header, "-" * len(header)]
    for point in front:
        bits = point.bits
        if len(bits) > max_bits_chars:
            bits = bits[: max_bits_chars - 1] + "…"
        rows.append(
            f"{point.trial_number:>6}  {point.accuracy:>8.2%}  {point.latency_ms:>10.4f}  "
            f"{point.size_bytes / 1024:>9.1f}  {bits}"
        )
    return "\n".join(rows)


def write_front(front: Sequence[FrontPoint], directory: Path, stem: str) -> tuple[Path, Path]:
    """Write `<stem>_pareto.csv` and `<stem>_pareto.json` into `directory`, atomically.

    Returns:
        The CSV and JSON paths.
    """
    directory.mkdir(parents=True, exist_ok=True)
    csv_path = directory / f"{stem}_pareto.csv"
    json_path = directory / f"{stem}_pareto.json"
    rows = [asdict(point) for point in front]
    fields = list(FrontPoint.__dataclass_fields__)

    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    # Unique temporary names: two workers finishing the same study do not share one.
    atomic_write_text(csv_path, table.getvalue())
    atomic_write_text(json_path, json.dumps(rows, indent=2) + "\n")
    return csv_path, json_path
