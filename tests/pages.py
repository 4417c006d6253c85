"""Renders test pages with real fonts: horizontal lines, vertical right-to-left columns, upside-down pages,
multi-column pages, genealogy registers, double-line annotations, word crops on photos, transparent text and
large scans.

The newer renderers return `(image, lines)`: the lines are the page's text in reading order, so that a scorer
can compare the service's text with it, order included.

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
        draw_column(draw, column, typeface, x, margin, step_y)
        if ruled:
            rule_x = x - int(size * column_gap / 2)
            draw.line([(rule_x, margin // 2), (rule_x, height - margin // 2)], fill="black", width=2)
    return image


def draw_column(draw: ImageDraw.ImageDraw, text: str, typeface: ImageFont.FreeTypeFont, x: int, top: int,
                step_y: int, fill="black") -> int:
    """One vertical column, characters top to bottom from (x, top); returns the y below the last character."""
    for row, char in enumerate(text):
        draw.text((x, top + row * step_y), char, font=typeface, fill=fill)
    return top + len(text) * step_y


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


# --- Page shapes that test reading order ------------------------------------------------------------------


def text_width(typeface: ImageFont.FreeTypeFont, text: str) -> int:
    return typeface.getbbox(text)[2]


def render_columns(columns: list[list[str]], heading: str | None = None, footer: str | None = None,
                   face: str = "sans", size: int = 32, gutter_em: float = 2.0, margin: int = 60,
                   line_gap: float = 0.8) -> tuple[Image.Image, list[str]]:
    """A 2- or 3-column page: a heading spanning the columns at the top, an optional footer (caption) spanning
    them at the bottom. All columns share one line pitch, so their rows line up: a reader that sorts lines by
    row alone interleaves the columns, which is the case this page tests.

    Reading order: heading, column 1 top to bottom, column 2, (column 3), footer."""
    typeface = font(face, size)
    heading_face = font(face, int(size * 1.3))
    column_width = max(text_width(typeface, line) for column in columns for line in column)
    gutter = int(gutter_em * size)
    step = int(size * (1 + line_gap))
    body_width = len(columns) * column_width + (len(columns) - 1) * gutter
    spanning = [text_width(heading_face, heading) if heading else 0, text_width(typeface, footer) if footer else 0]
    width = max(body_width, *spanning) + 2 * margin
    top = margin + (int(size * 1.3) + step if heading else 0)
    body_height = max(len(column) for column in columns) * step
    height = top + body_height + (step + size if footer else 0) + margin
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    if heading:
        draw.text(((width - spanning[0]) // 2, margin), heading, font=heading_face, fill="black")
    for number, column in enumerate(columns):
        x = margin + number * (column_width + gutter)
        for row, line in enumerate(column):
            draw.text((x, top + row * step), line, font=typeface, fill="black")
    if footer:
        draw.text((margin, top + body_height + step - int(size * line_gap)), footer, font=typeface, fill="black")
    lines = ([heading] if heading else []) + [line for column in columns for line in column] + ([footer] if footer else [])
    return image, lines


def render_vertical_registers(registers: list[list[str]], face: str = "kai", size: int = 40,
                              margin: int = 60) -> tuple[Image.Image, list[str]]:
    """A genealogy page in registers (上下栏) stacked top to bottom, a horizontal rule and a gap between two
    registers; each register holds columns read right to left, each column top to bottom.

    Reading order: register 1's columns right to left, then register 2's, and so on."""
    typeface = font(face, size)
    step_y, step_x = int(size * 1.15), size * 2
    gap = size  # above and below each rule
    heights = [max(len(column) for column in register) * step_y for register in registers]
    width = max(len(register) for register in registers) * step_x + 2 * margin
    height = sum(heights) + (len(registers) - 1) * 2 * gap + 2 * margin
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    top = margin
    for register, register_height in zip(registers, heights):
        if top > margin:
            rule_y = top - gap
            draw.line([(margin // 2, rule_y), (width - margin // 2, rule_y)], fill="black", width=3)
        for number, column in enumerate(register):
            draw_column(draw, column, typeface, width - margin - (number + 1) * step_x + size // 2, top, step_y)
        top += register_height + 2 * gap
    return image, [column for register in registers for column in register]


def render_vertical_annotated(columns: list[tuple[str, str | None, str | None]], face: str = "kai", size: int = 44,
                              margin: int = 60) -> tuple[Image.Image, list[str]]:
    """A right-to-left page with double-line small annotations (双行小注): a column's main text at full size,
    then, in the same column slot, two thin columns of half-size characters side by side.

    Reading order per column: main text, right annotation column, left annotation column; columns right to
    left. Each of the three is its own entry in the lines."""
    typeface, note_face = font(face, size), font(face, size // 2)
    step_y, note_step = int(size * 1.15), int(size * 0.6)
    step_x = size * 2

    def slot_height(main: str, right: str | None, left: str | None) -> int:
        return len(main) * step_y + max(len(right or ""), len(left or "")) * note_step

    width = len(columns) * step_x + 2 * margin
    height = max(slot_height(*column) for column in columns) + 2 * margin
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    lines = []
    for number, (main, right, left) in enumerate(columns):
        x = width - margin - (number + 1) * step_x + size // 2
        below = draw_column(draw, main, typeface, x, margin, step_y)
        if right:
            draw_column(draw, right, note_face, x + size // 2, below, note_step)
        if left:
            draw_column(draw, left, note_face, x, below, note_step)
        lines += [text for text in (main, right, left) if text]
    return image, lines


# --- Crops, lines and unusual files -------------------------------------------------------------------------


def is_latin(text: str) -> bool:
    return all(ord(char) < 0x2E80 for char in text)


def random_noise(size: tuple[int, int], rng: random.Random, scale: int = 1) -> Image.Image:
    """Uniform grey noise from `rng` (PIL's effect_noise is not seedable), drawn at 1/scale and enlarged so
    that it looks like paper grain rather than single-pixel speckle."""
    small = (max(1, size[0] // scale), max(1, size[1] // scale))
    noise = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    return noise if scale == 1 else noise.resize(size, Image.BILINEAR)


def gradient(size: tuple[int, int], start: tuple, end: tuple, angle: float) -> Image.Image:
    """A smooth two-colour gradient across the frame in the direction `angle` (degrees)."""
    side = int((size[0] ** 2 + size[1] ** 2) ** 0.5) + 2
    mask = Image.linear_gradient("L").resize((side, side)).rotate(angle, resample=Image.BILINEAR)
    left, top = (side - size[0]) // 2, (side - size[1]) // 2
    mask = mask.crop((left, top, left + size[0], top + size[1]))
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


def make_background(kind: str, size: tuple[int, int], rng: random.Random, light: bool) -> Image.Image:
    """'paper' (flat off-white with grain), 'gradient' (two colours) or 'photo' (gradient, blurred colour
    blobs and noise, like a crop of a street sign or a product photo). `light`: the text will be dark."""
    def colour():
        low, high = (150, 255) if light else (0, 110)
        return tuple(rng.randrange(low, high) for _ in range(3))

    if kind == "paper":
        image = Image.new("RGB", size, (rng.randrange(235, 250), rng.randrange(228, 242), rng.randrange(205, 225)))
        return Image.blend(image, random_noise(size, rng).convert("RGB"), 0.06)
    image = gradient(size, colour(), colour(), rng.uniform(0, 360))
    if kind == "photo":
        blobs = ImageDraw.Draw(image)
        for _ in range(rng.randrange(4, 9)):
            x, y = rng.uniform(-0.2, 1.0) * size[0], rng.uniform(-0.2, 1.0) * size[1]
            radius = rng.uniform(0.2, 0.6) * max(size)
            blobs.ellipse([x, y, x + radius, y + radius * rng.uniform(0.5, 1.5)], fill=colour())
        image = image.filter(ImageFilter.GaussianBlur(max(size) / 12))
        image = Image.blend(image, random_noise(size, rng).convert("RGB"), 0.08)
    return image


def fitted_font(text: str, face: str, height: int, fill: float) -> ImageFont.FreeTypeFont:
    """The font whose ink for `text` is `fill` × `height` high (ink heights are not the em size)."""
    trial = font(face, 100)
    left, top, right, bottom = trial.getbbox(text)
    return font(face, max(6, int(100 * fill * height / (bottom - top))))


def draw_tight(image: Image.Image, text: str, typeface: ImageFont.FreeTypeFont, fill) -> None:
    """Text centred on its ink box (not on the em box), so that the margins are what the caller sized."""
    left, top, right, bottom = typeface.getbbox(text)
    x = (image.width - (right - left)) // 2 - left
    y = (image.height - (bottom - top)) // 2 - top
    ImageDraw.Draw(image).text((x, y), text, font=typeface, fill=fill)


def render_word_crop(text: str, height: int = 48, background: str = "photo",
                     seed: int = 0) -> tuple[Image.Image, list[str]]:
    """A word (1–4 CJK characters or a short Latin word) filling the frame: margin about 6 % of the height,
    on a `background` background ('photo', 'gradient', 'paper'), in a contrasting but not always black
    colour, and for odd seeds a light JPEG pass, as a crop out of a photo would be."""
    rng = random.Random(seed)
    face = "latin" if is_latin(text) else rng.choice(("sans", "serif", "kai"))
    typeface = fitted_font(text, face, height, 0.88)
    left, _, right, _ = typeface.getbbox(text)
    size = (right - left + int(0.12 * height), height)
    light = background == "paper" or rng.random() < 0.6
    image = make_background(background, size, rng, light)
    ink = tuple(rng.randrange(0, 70) for _ in range(3)) if light else tuple(rng.randrange(200, 256) for _ in range(3))
    draw_tight(image, text, typeface, ink)
    if seed % 2:
        image = Image.open(io.BytesIO(encode(image, "JPEG", quality=rng.randrange(70, 90)))).convert("RGB")
    return image, [text]


def render_single_line(text: str, height: int = 32, face: str = "sans",
                       width: int | None = None) -> tuple[Image.Image, list[str]]:
    """One line filling a narrow frame (like a 256×32 text-line crop): ink about 80 % of the height, shrunk
    further when a `width` is given and the text would not fit it."""
    typeface = fitted_font(text, face, height, 0.8)
    left, _, right, _ = typeface.getbbox(text)
    if width and right - left > 0.96 * width:
        typeface = font(face, int(typeface.size * 0.96 * width / (right - left)))
        left, _, right, _ = typeface.getbbox(text)
    image = Image.new("RGB", (width or right - left + height // 2, height), "white")
    draw_tight(image, text, typeface, "black")
    return image, [text]


def render_transparent_text(lines: list[str], face: str = "sans", size: int = 40,
                            color: tuple = (255, 255, 255)) -> tuple[Image.Image, list[str]]:
    """An RGBA image whose alpha channel carries the glyphs (light text on a fully transparent background, as
    logos and subtitles are exported). RGB under transparent pixels is black, (0, 0, 0, 0), as many tools
    write it: an RGB conversion that drops alpha sees black text on black."""
    alpha = Image.eval(render_lines(lines, face=face, size=size).convert("L"), lambda value: 255 - value)
    glyphs = Image.new("RGBA", alpha.size, color + (255,))
    glyphs.putalpha(alpha)
    covered = alpha.point(lambda value: 255 if value else 0)
    return Image.composite(glyphs, Image.new("RGBA", alpha.size, (0, 0, 0, 0)), covered), lines


def render_large_scan(blocks: list[list[str]], face: str = "sans", size: int = 38, page: tuple = (6000, 8000),
                      seed: int = 0) -> tuple[Image.Image, list[str]]:
    """A big-format sheet scanned at about 300 dpi (6000×8000): 9-point text (about 38 px), paragraphs in
    blocks spread down the page at different indents, on paper with light grain.

    Blocks stand one above another (never side by side), so the reading order is blocks top to bottom."""
    rng = random.Random(seed)
    typeface = font(face, size)
    step = int(size * 1.6)
    image = Image.new("RGB", page, (246, 242, 232))
    image = Image.blend(image, random_noise(page, rng, scale=3).convert("RGB"), 0.07)
    draw = ImageDraw.Draw(image)
    room = page[1] - 600 - sum(len(block) * step for block in blocks)
    spacing = room // max(1, len(blocks))
    top = 300
    for block in blocks:
        widest = max(text_width(typeface, line) for line in block)
        left = rng.randrange(300, max(301, page[0] - widest - 300))
        for row, line in enumerate(block):
            draw.text((left, top + row * step), line, font=typeface, fill=(30, 30, 30))
        top += len(block) * step + rng.randrange(spacing // 2, spacing + 1)
    return image, [line for block in blocks for line in block]


def rotate_page(image: Image.Image, degrees: int) -> Image.Image:
    """The page turned counter-clockwise by 90, 180 or 270 degrees (PIL's convention, canvas enlarged);
    its lines in reading order are the upright page's."""
    if degrees not in (90, 180, 270):
        raise ValueError(f"rotate_page turns by 90, 180 or 270 degrees, not {degrees}")
    return image.rotate(degrees, expand=True)
