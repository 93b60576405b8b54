"""A tiny PNG line-chart writer (zlib only): profiles get a picture without matplotlib."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

from acore_doctor.fsio import write_atomic

Colour = tuple[int, int, int]

WHITE: Colour = (255, 255, 255)
BLACK: Colour = (0, 0, 0)
GREY: Colour = (200, 200, 200)
BLUE: Colour = (31, 119, 180)
ORANGE: Colour = (255, 127, 14)
GREEN: Colour = (44, 160, 44)
RED: Colour = (214, 39, 40)

#: 3x5 pixel glyphs, one 3-bit row each (top to bottom); enough for axis labels.
FONT: dict[str, tuple[int, ...]] = {
    "0": (7, 5, 5, 5, 7), "1": (2, 6, 2, 2, 7), "2": (7, 1, 7, 4, 7), "3": (7, 1, 3, 1, 7),
    "4": (5, 5, 7, 1, 1), "5": (7, 4, 7, 1, 7), "6": (7, 4, 7, 5, 7), "7": (7, 1, 1, 2, 2),
    "8": (7, 5, 7, 5, 7), "9": (7, 5, 7, 1, 7), ".": (0, 0, 0, 0, 2), "-": (0, 0, 7, 0, 0),
    ":": (0, 2, 0, 2, 0), "/": (1, 1, 2, 4, 4), "%": (5, 1, 2, 4, 5), " ": (0, 0, 0, 0, 0),
    "(": (1, 2, 2, 2, 1), ")": (4, 2, 2, 2, 4), "=": (0, 7, 0, 7, 0), "+": (0, 2, 7, 2, 0),
    "A": (2, 5, 7, 5, 5), "B": (6, 5, 6, 5, 6), "C": (7, 4, 4, 4, 7), "D": (6, 5, 5, 5, 6),
    "E": (7, 4, 6, 4, 7), "F": (7, 4, 6, 4, 4), "G": (7, 4, 5, 5, 7), "H": (5, 5, 7, 5, 5),
    "I": (7, 2, 2, 2, 7), "J": (1, 1, 1, 5, 7), "K": (5, 5, 6, 5, 5), "L": (4, 4, 4, 4, 7),
    "M": (5, 7, 7, 5, 5), "N": (6, 5, 5, 5, 5), "O": (7, 5, 5, 5, 7), "P": (7, 5, 7, 4, 4),
    "Q": (7, 5, 5, 7, 1), "R": (6, 5, 6, 5, 5), "S": (3, 4, 2, 1, 6), "T": (7, 2, 2, 2, 2),
    "U": (5, 5, 5, 5, 7), "V": (5, 5, 5, 5, 2), "W": (5, 5, 7, 7, 5), "X": (5, 5, 2, 5, 5),
    "Y": (5, 5, 2, 2, 2), "Z": (7, 1, 2, 4, 7),
}  # fmt: skip


class Canvas:
    def __init__(self, width: int, height: int, background: Colour = WHITE) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def dot(self, x: int, y: int, colour: Colour) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = 3 * (y * self.width + x)
            self.pixels[i : i + 3] = bytes(colour)

    def line(self, x0: int, y0: int, x1: int, y1: int, colour: Colour, thick: int = 1) -> None:
        """Bresenham's line, optionally thickened downwards and rightwards."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            for t in range(thick):
                self.dot(x0, y0 + t, colour)
                self.dot(x0 + t, y0, colour)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x: int, y: int, text: str, colour: Colour = BLACK, scale: int = 2) -> None:
        for char in text.upper():
            glyph = FONT.get(char, FONT[" "])
            for row, bits in enumerate(glyph):
                for col in range(3):
                    if bits & (4 >> col):
                        for a in range(scale):
                            for b in range(scale):
                                self.dot(x + col * scale + a, y + row * scale + b, colour)
            x += 4 * scale

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[3 * y * self.width : 3 * (y + 1) * self.width])
            for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"


def panel(
    canvas: Canvas,
    top: int,
    height: int,
    xs: Sequence[float],
    series: Sequence[tuple[str, Sequence[float | None], Colour]],
) -> None:
    """One chart panel: a frame, min/max labels, the time axis and one line per series."""
    left, right = 70, canvas.width - 10
    bottom = top + height
    values = [v for _, ys, _ in series for v in ys if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    span_x = (xs[-1] - xs[0]) if len(xs) > 1 and xs[-1] > xs[0] else 1.0
    for x0, y0, x1, y1 in (
        (left, top, right, top),
        (left, bottom, right, bottom),
        (left, top, left, bottom),
        (right, top, right, bottom),
    ):
        canvas.line(x0, y0, x1, y1, GREY)
    canvas.text(4, top, _fmt(high))
    canvas.text(4, bottom - 10, _fmt(low))
    canvas.text(left, bottom + 4, "0 SEC")
    end = f"{span_x:.0f} SEC"
    canvas.text(right - 8 * len(end), bottom + 4, end)
    legend_x = left + 6
    for name, ys, colour in series:
        canvas.text(legend_x, top + 4, name, colour)
        legend_x += 8 * len(name) + 16
        points = [
            (
                left + round((x - xs[0]) / span_x * (right - left)),
                bottom - round((y - low) / (high - low) * height),
            )
            for x, y in zip(xs, ys, strict=False)
            if y is not None
        ]
        for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
            canvas.line(ax, ay, bx, by, colour, thick=2)
        if len(points) == 1:
            canvas.line(*points[0], *points[0], colour, thick=3)


def write_chart(
    path: Path,
    title: str,
    xs: Sequence[float],
    panels: Sequence[Sequence[tuple[str, Sequence[float | None], Colour]]],
    width: int = 720,
    panel_height: int = 150,
) -> Path:
    height = 30 + len(panels) * (panel_height + 30)
    canvas = Canvas(width, height)
    canvas.text(8, 6, title[: (width - 16) // 8])
    for index, series in enumerate(panels):
        panel(canvas, 30 + index * (panel_height + 30), panel_height, xs, series)
    write_atomic(path, canvas.png())  # owner-only, like the profile it charts
    return path
