"""Read SCALE-Sim's topology CSV files into `LayerShape`s (see `hardware.scalesim_compat`).

Convolution topology: `name, ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride,`
(no padding, output `ceil((H - F) / S) + 1`); a name containing `DP` is depthwise: one layer per
channel, each with one input channel and the row's filters (SCALE-Sim's expansion). GEMM
topology (header `Layer, M, N, K`): an `M x K` input times a `K x N` matrix.

Sizes are bounded (`MAX_TOPOLOGY_BYTES`, `MAX_LAYERS`, `MAX_CONV_FIELD`, `MAX_GEMM_FIELD`): a
file or row beyond them is refused with one line before any layer is priced, instead of running
the simulator out of memory (a depthwise row of millions of channels is millions of layers).
"""

from __future__ import annotations

from pathlib import Path

from hardware.layer import LayerKind
from hardware.layer import LayerShape


__all__ = ["MAX_CONV_FIELD", "MAX_GEMM_FIELD", "MAX_LAYERS", "MAX_TOPOLOGY_BYTES", "read_topology"]

MAX_TOPOLOGY_BYTES = 16 * 1024 * 1024
"""Largest topology file read (real ones are a few KiB)."""
MAX_LAYERS = 100_000
"""Most layers in a topology, counting a depthwise row as one layer per channel."""
MAX_CONV_FIELD = 65_536
"""Largest value of a convolution field (IFMAP side, filter side, channels, filters, stride);
ImageNet networks stay below 4096."""
MAX_GEMM_FIELD = 1 << 22
"""Largest GEMM dimension M, N or K."""


def read_topology(path: str | Path) -> list[LayerShape]:
    """Read a SCALE-Sim topology CSV (convolution or GEMM format, told apart by the header).

    Args:
        path: The file.

    Returns:
        One `LayerShape` per row, in order; a depthwise (`DP`) row becomes one grouped layer
        whose groups are SCALE-Sim's per-channel layers.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the file has no layers or a row is malformed; the message names the line,
            the field and the value.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_TOPOLOGY_BYTES:
        raise ValueError(
            f"{path}: {size} bytes is too large for a topology (at most {MAX_TOPOLOGY_BYTES})"
        )
    lines = [
        (number, line.strip())
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip()
    ]
    if not lines:
        raise ValueError(f"{path}: empty topology file")
    header = _fields(lines[0][1])
    is_gemm = [field.lower() for field in header[1:4]] == ["m", "n", "k"]
    parse = _gemm_layer if is_gemm else _conv_layer
    if len(lines) - 1 > MAX_LAYERS:
        raise ValueError(f"{path}: {len(lines) - 1} layers, more than {MAX_LAYERS}")
    layers = [parse(path, number, _fields(line)) for number, line in lines[1:]]
    if not layers:
        raise ValueError(f"{path}: no layers after the header line")
    expanded = sum(layer.groups for layer in layers)
    if expanded > MAX_LAYERS:
        raise ValueError(
            f"{path}: the depthwise rows expand to {expanded} SCALE-Sim layers (one per "
            f"channel), more than {MAX_LAYERS}"
        )
    return layers


def _fields(line: str) -> list[str]:
    """Comma-separated fields without the trailing empty one and any `#` comment."""
    fields = [field.strip() for field in line.split(",")]
    for index, field in enumerate(fields):
        if field.startswith("#"):
            fields = fields[:index]
            break
    while fields and not fields[-1]:
        fields.pop()
    return fields


def _int_field(path: Path, number: int, name: str, text: str, maximum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{path}:{number}: {name} must be a positive integer, got {text!r}")
    if value > maximum:
        raise ValueError(f"{path}:{number}: {name} must be at most {maximum}, got {value}")
    return value


_CONV_FIELDS = (
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
)


def _conv_layer(path: Path, number: int, fields: list[str]) -> LayerShape:
    if len(fields) not in (8, 9):
        raise ValueError(
            f"{path}:{number}: a convolution row needs 8 fields (name, {', '.join(_CONV_FIELDS)}) "
            f"and an optional N:M sparsity, got {len(fields)}: {','.join(fields)!r}"
        )
    name = fields[0]
    if not name:
        raise ValueError(f"{path}:{number}: Layer name is empty")
    ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride = (
        _int_field(path, number, field_name, text, MAX_CONV_FIELD)
        for field_name, text in zip(_CONV_FIELDS, fields[1:8], strict=True)
    )
    if len(fields) == 9:
        _check_dense(path, number, fields[8])
    if filter_h > ifmap_h or filter_w > ifmap_w:
        raise ValueError(
            f"{path}:{number}: filter {filter_h}x{filter_w} is larger than the IFMAP "
            f"{ifmap_h}x{ifmap_w}"
        )
    groups = channels if "DP" in name else 1
    return LayerShape(
        name=name,
        kind=LayerKind.CONV,
        in_channels=channels,
        out_channels=filters * groups,
        input_h=ifmap_h,
        input_w=ifmap_w,
        output_h=-(-(ifmap_h - filter_h) // stride) + 1,
        output_w=-(-(ifmap_w - filter_w) // stride) + 1,
        kernel_h=filter_h,
        kernel_w=filter_w,
        stride_h=stride,
        stride_w=stride,
        groups=groups,
    )


def _check_dense(path: Path, number: int, text: str) -> None:
    parts = text.split(":")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise ValueError(f"{path}:{number}: sparsity must be N:M, got {text!r}")
    if int(parts[0]) != int(parts[1]):
        raise ValueError(
            f"{path}:{number}: sparsity {text!r} is not supported (dense only, N:M with N = M)"
        )


def _gemm_layer(path: Path, number: int, fields: list[str]) -> LayerShape:
    if len(fields) != 4:
        raise ValueError(
            f"{path}:{number}: a GEMM row needs 4 fields (Layer, M, N, K), got {len(fields)}: "
            f"{','.join(fields)!r}"
        )
    name = fields[0]
    if not name:
        raise ValueError(f"{path}:{number}: Layer name is empty")
    m, n, k = (
        _int_field(path, number, field_name, text, MAX_GEMM_FIELD)
        for field_name, text in zip(("M", "N", "K"), fields[1:4], strict=True)
    )
    # SCALE-Sim runs a GEMM as a convolution of an M x K input with one 1 x K filter per column.
    return LayerShape(
        name=name,
        kind=LayerKind.CONV,
        in_channels=1,
        out_channels=n,
        input_h=m,
        input_w=k,
        output_h=m,
        output_w=1,
        kernel_h=1,
        kernel_w=k,
    )
