"""Renders test pages with real fonts: horizontal lines, vertical right-to-left columns, upside-down pages.

The fonts are Debian's (fonts-noto-cjk, fonts-arphic-ukai, fonts-arphic-uming), installed by `make test`.
Used by the tests and by bench/, so that both read pages whose exact text is known.
"""

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = {
    # face: (file, index in the collection). Index 2 of the Noto CJK collections is the SC (simplified) face.
    "sans": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    "serif": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    "kai": ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    "ming": ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    "latin": ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
}


def font(face: str = "sans", size: int = 40) -> ImageFont.FreeTypeFont:
    path, index = FONTS[face]
    if not Path(path).exists():
        raise FileNotFoundError(f"font {path} is missing: run `make test-deps`")
    return ImageFont.truetype(path, size=size, index=index)


def render_lines(lines: list[str], face: str = "sans", size: int = 40, margin: int = 60,
                 line_gap: float = 0.8) -> Image.Image:
    """Horizontal text, one entry per line, read top to bottom."""
    typeface = font(face, size)
    widths = [typeface.getbbox(line)[2] for line in lines]
    step = int(size * (1 + line_gap))
    image = Image.new("RGB", (max(widths) + 2 * margin, step * len(lines) + 2 * margin - int(size * line_gap)), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((margin, margin + number * step), line, font=typeface, fill="black")
    return image


def render_vertical_rl(columns: list[str], face: str = "kai", size: int = 44, margin: int = 70,
                       column_gap: float = 1.0, ruled: bool = False) -> Image.Image:
    """A genealogy-style page: columns of characters, the first column at the right, each top to bottom."""
    typeface = font(face, size)
    step_y = int(size * 1.15)
    step_x = int(size * (1 + column_gap))
    height = max(len(column) for column in columns) * step_y + 2 * margin
    width = len(columns) * step_x + 2 * margin
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for number, column in enumerate(columns):
        x = width - margin - (number + 1) * step_x + int(size * column_gap / 2)
        for row, char in enumerate(column):
            draw.text((x, margin + row * step_y), char, font=typeface, fill="black")
        if ruled:
            rule_x = x - int(size * column_gap / 2)
            draw.line([(rule_x, margin // 2), (rule_x, height - margin // 2)], fill="black", width=2)
    return image


def scanned(image: Image.Image, seed: int = 0, angle: float = 1.5, quality: int = 50) -> Image.Image:
    """A photo- or scan-like copy: slight skew, blur, noise and JPEG artefacts."""
    rng = random.Random(seed)
    page = image.convert("L").rotate(angle, expand=True, fillcolor=255, resample=Image.BICUBIC)
    page = page.filter(ImageFilter.GaussianBlur(0.8))
    pixels = page.load()
    for _ in range(page.width * page.height // 200):
        pixels[rng.randrange(page.width), rng.randrange(page.height)] = rng.choice((0, 255))
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()
