"""A dependency-free line plot: PNG (zlib + struct, a 5x7 bitmap font) and the same as SVG.

matplotlib is not in the locked environment; this draws what benchmark 4 needs: two series against
one x axis (left and right y axes), points, and a dashed limit line.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_FONT = {  # 5x7, one string per row, '#' = ink
    "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
    "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
    "3": ["####.", "....#", "....#", ".###.", "....#", "....#", "####."],
    "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
    "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
    "6": [".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."],
    "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
    "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
    "9": [".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."],
    ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
    "(": ["...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."],
    ")": [".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."],
    "-": [".....", ".....", ".....", "#####", ".....", ".....", "....."],
    "/": ["....#", "...#.", "...#.", "..#..", ".#...", ".#...", "#...."],
    " ": ["....."] * 7,
    "A": [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "B": ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
    "C": [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
    "D": ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
    "E": ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
    "F": ["#####", "#....", "#....", "####.", "#....", "#....", "#...."],
    "H": ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "W": ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "##.##", "#...#"],
    "G": [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".###."],
    "I": [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "K": ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
    "L": ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
    "M": ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"],
    "N": ["#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"],
    "O": [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "P": ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
    "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
    "S": [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
    "T": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
    "U": ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "V": ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
    "X": ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"],
    "Y": ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
}

Color = tuple[int, int, int]
BLACK, GREY, BLUE, RED, WHITE = (0, 0, 0), (200, 200, 200), (31, 90, 180), (200, 40, 40), (255, 255, 255)


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.w, self.h = width, height
        self.px = bytearray(WHITE * (width * height))

    def set(self, x: int, y: int, c: Color) -> None:
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def line(self, x0: float, y0: float, x1: float, y1: float, c: Color, width: int = 1, dash: int = 0) -> None:
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for s in range(steps + 1):
            if dash and (s // dash) % 2:
                continue
            x = round(x0 + (x1 - x0) * s / steps)
            y = round(y0 + (y1 - y0) * s / steps)
            for dx in range(-(width // 2), width - width // 2):
                for dy in range(-(width // 2), width - width // 2):
                    self.set(x + dx, y + dy, c)

    def dot(self, x: float, y: float, c: Color, r: int = 4) -> None:
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                if dx * dx + dy * dy <= r * r:
                    self.set(round(x) + dx, round(y) + dy, c)

    def text(self, x: int, y: int, s: str, c: Color = BLACK, scale: int = 2, anchor: str = "left") -> None:
        width = len(s) * 6 * scale
        if anchor == "right":
            x -= width
        elif anchor == "center":
            x -= width // 2
        for k, ch in enumerate(s.upper()):
            glyph = _FONT.get(ch, _FONT[" "])
            for row, bits in enumerate(glyph):
                for col, bit in enumerate(bits):
                    if bit == "#":
                        for sx in range(scale):
                            for sy in range(scale):
                                self.set(x + (k * 6 + col) * scale + sx, y + row * scale + sy, c)

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3]) for y in range(self.h))

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


@dataclass
class Series:
    label: str
    ys: Sequence[float]
    color: Color
    limit: float | None = None  # a dashed horizontal line (e.g. the 300 MB goal)


def _nice_max(v: float) -> float:
    for step in (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if v <= step * 5:
            return step * 5
    return v


def _tick(v: float) -> str:
    return f"{v:.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"


def plot(xs: Sequence[float], left: Series, right: Series, x_label: str, path_png: Path, path_svg: Path,
         title: str) -> None:
    W, H, L, R, T, B = 900, 560, 110, 130, 60, 80
    cw, ch = W - L - R, H - T - B
    xmax = max(xs) * 1.05
    lmax = _nice_max(max([*left.ys, left.limit or 0]) * 1.1)
    rmax = _nice_max(max([*right.ys, right.limit or 0]) * 1.1)

    def px(x: float) -> float:
        return L + cw * x / xmax

    def py(y: float, top: float) -> float:
        return T + ch - ch * y / top

    c = Canvas(W, H)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="13">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="28" text-anchor="middle" font-size="16">{title}</text>']
    for i in range(6):
        y = T + ch * i / 5
        c.line(L, y, L + cw, y, GREY)
        c.text(L - 8, int(y) - 7, _tick(lmax * (5 - i) / 5), BLUE, anchor="right")
        c.text(L + cw + 8, int(y) - 7, _tick(rmax * (5 - i) / 5), RED)
        svg.append(f'<line x1="{L}" y1="{y}" x2="{L + cw}" y2="{y}" stroke="#ccc"/>')
        svg.append(f'<text x="{L - 8}" y="{y + 4}" text-anchor="end" fill="#1f5ab4">{_tick(lmax * (5 - i) / 5)}</text>')
        svg.append(f'<text x="{L + cw + 8}" y="{y + 4}" fill="#c82828">{_tick(rmax * (5 - i) / 5)}</text>')
    c.line(L, T, L, T + ch, BLACK)
    c.line(L, T + ch, L + cw, T + ch, BLACK)
    c.line(L + cw, T, L + cw, T + ch, BLACK)
    svg.append(f'<rect x="{L}" y="{T}" width="{cw}" height="{ch}" fill="none" stroke="black"/>')
    for x in xs:
        label = f"{x / 1000:.0f}K" if x >= 1000 else f"{x:.0f}"
        c.line(px(x), T + ch, px(x), T + ch + 6, BLACK)
        c.text(int(px(x)), T + ch + 12, label, anchor="center")
        svg.append(f'<text x="{px(x)}" y="{T + ch + 22}" text-anchor="middle">{label}</text>')
    c.text(L + cw // 2, H - 34, x_label, anchor="center")
    svg.append(f'<text x="{L + cw / 2}" y="{H - 24}" text-anchor="middle">{x_label}</text>')
    for series, top, side in ((left, lmax, "left"), (right, rmax, "right")):
        pts = [(px(x), py(y, top)) for x, y in zip(xs, series.ys, strict=True)]
        hexc = "#{:02x}{:02x}{:02x}".format(*series.color)
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            c.line(x0, y0, x1, y1, series.color, width=3)
        for x, y in pts:
            c.dot(x, y, series.color)
        svg.append(f'<polyline fill="none" stroke="{hexc}" stroke-width="3" points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        svg += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{hexc}"/>' for x, y in pts]
        if series.limit is not None:
            ly = py(series.limit, top)
            c.line(L, ly, L + cw, ly, series.color, dash=8)
            c.text(L + cw - 6, int(ly) - 20, f"LIMIT {_tick(series.limit)}", series.color, anchor="right")
            svg.append(f'<line x1="{L}" y1="{ly}" x2="{L + cw}" y2="{ly}" stroke="{hexc}" stroke-dasharray="8 8"/>')
            svg.append(f'<text x="{L + cw - 6}" y="{ly - 6}" text-anchor="end" fill="{hexc}">'
                       f'limit {_tick(series.limit)}</text>')
        if side == "left":
            c.text(12, T - 30, series.label, series.color)
            svg.append(f'<text x="12" y="{T - 14}" fill="{hexc}">{series.label}</text>')
        else:
            c.text(W - 12, T - 30, series.label, series.color, anchor="right")
            svg.append(f'<text x="{W - 12}" y="{T - 14}" text-anchor="end" fill="{hexc}">{series.label}</text>')
    svg.append("</svg>")
    path_png.write_bytes(c.png())
    path_svg.write_text("\n".join(svg))
