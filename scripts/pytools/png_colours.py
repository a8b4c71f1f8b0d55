"""Counts the pixels of given colours in a PNG (8-bit RGB or RGBA), with the standard library
alone: `png_colours.py FILE 1a7f37 bf8700 …` prints {"width", "height", "counts": {hex: n}}.

The status page test reads a Chromium screenshot with it: each badge colour must show.
A pixel counts for a colour when every channel is within 8 of it (anti-aliased edges are not
counted, solid fills are)."""

from __future__ import annotations

import json
import struct
import sys
import zlib

TOLERANCE = 8


def read_png(path: str) -> tuple[int, int, int, bytes]:
    with open(path, "rb") as file:
        data = file.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path} is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if header is None:
        raise SystemExit("no IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise SystemExit(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    return width, height, 3 if colour == 2 else 4, zlib.decompress(idat)


def unfilter(width: int, height: int, bpp: int, raw: bytes) -> list[bytearray]:
    stride = width * bpp
    rows: list[bytearray] = []
    previous = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(line)
        previous = line
    return rows


def main() -> None:
    path, wanted = sys.argv[1], sys.argv[2:]
    width, height, bpp, raw = read_png(path)
    targets = {h: tuple(int(h[i:i + 2], 16) for i in (0, 2, 4)) for h in wanted}
    counts = dict.fromkeys(wanted, 0)
    for line in unfilter(width, height, bpp, raw):
        for x in range(0, len(line), bpp):
            r, g, b = line[x], line[x + 1], line[x + 2]
            for name, (tr, tg, tb) in targets.items():
                if abs(r - tr) <= TOLERANCE and abs(g - tg) <= TOLERANCE and abs(b - tb) <= TOLERANCE:
                    counts[name] += 1
    print(json.dumps({"width": width, "height": height, "counts": counts}))


if __name__ == "__main__":
    main()
