"""Exercise pictures drawn from ``poses.toml``: a PNG with the start and end positions side by side, or a
short looping GIF between them when the movement is the point.

Rendering is deterministic (fixed size and DPI, no timestamps or version strings in the file), so the
same pose data always gives the same bytes. ``cached_image`` renders once per pose-data hash and keeps
the file in a folder the caller chooses. CPU-bound: call it in a worker thread.

    python -m content.figures --sheet sheet.png      # every exercise on one contact sheet
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from content.poses import (
    FLOOR,
    ExerciseFigure,
    Prop,
    Skeleton,
    angles_only,
    interpolate,
    load_poses,
    pose_skeleton,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RENDERER_VERSION = "1"
"""Bump when the drawing code changes: every cached image (and its Telegram file_id) is then redone."""

WIDE_PANEL_PX = (720, 280)
"""A panel for a lying or kneeling body: the two panels are stacked, so each is as wide as the phone."""
TALL_PANEL_PX = (380, 460)
"""A panel for an upright body or a view from above: the two panels sit side by side."""
WIDE_GIF_PX = (720, 320)
TALL_GIF_PX = (420, 460)
WIDE_ABOVE = 1.3
"""Bodies wider than this many times their height get the wide layout."""
GAP_PX = 26
DPI = 100
MAX_PNG_BYTES = 150_000
MAX_GIF_BYTES = 300_000
HOLD_MS = 900
STEP_MS = 70
STEPS = 9
GIF_COLOURS = 48

BACKGROUND = "#f7f4ee"
BODY = "#2f4858"
BODY_FAR = "#8ea5b6"
ACCENT = "#e76f51"
ACCENT_FAR = "#f2ab97"
PROP = "#ddd5c6"
GROUND = "#f0ebe2"
MAT = "#c9bfae"
MAT_TOP = "#e6dfd2"
MAT_THICKNESS = 0.026
PROP_DARK = "#b8ab95"
WATER = "#d3e4ea"
LABEL = "#9a9385"

Kind = Literal["png", "gif"]


@dataclass(frozen=True, slots=True)
class Picture:
    data: bytes
    kind: Kind

    @property
    def filename_suffix(self) -> str:
        return f".{self.kind}"


# --- pose data -------------------------------------------------------------------------------------


@cache
def figures() -> Mapping[str, ExerciseFigure]:
    """Every exercise's figure, validated (loaded once)."""
    return load_poses()


def image_key(figure: ExerciseFigure) -> str:
    """The cache key of an exercise's picture: its pose data and the renderer version."""
    blob = f"{figure.id}\n{figure.digest}\n{RENDERER_VERSION}\n{DPI}"
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def picture_kind(figure: ExerciseFigure) -> Kind:
    return "gif" if figure.motion == "gif" else "png"


# --- drawing -----------------------------------------------------------------------------------------


def _new_figure(width_px: int, height_px: int) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    figure = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    return figure


def _frame_poses(figure: ExerciseFigure) -> list[tuple[dict[str, Any], int]]:
    """The GIF frames: (pose, duration in ms), holding each key pose and easing between them."""
    keys = [angles_only(figure, figure.poses[name]) for name in figure.frames]
    out: list[tuple[dict[str, Any], int]] = []
    for i, a in enumerate(keys):
        b = keys[(i + 1) % len(keys)]
        out.append((a, HOLD_MS))
        for step in range(1, STEPS + 1):
            t = step / (STEPS + 1)
            eased = (1 - math.cos(math.pi * t)) / 2
            out.append((interpolate(a, b, eased), STEP_MS))
    return out


def _bounds(figure: ExerciseFigure, skeletons: Sequence[Skeleton]) -> tuple[float, float, float, float]:
    boxes = [s.bounds() for s in skeletons]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    for prop in figure.props:
        px0, py0, px1, py1 = _prop_bounds(prop)
        x0, y0, x1, y1 = min(x0, px0), min(y0, py0), max(x1, px1), max(y1, py1)
    for arrow in figure.arrows:
        for point in (arrow.start, arrow.end):
            if point is not None:
                px, py = point[0] + arrow.offset[0], point[1] + arrow.offset[1]
                x0, y0, x1, y1 = min(x0, px), min(y0, py), max(x1, px + 0.03), max(y1, py + 0.03)
    if figure.view != "top":
        y0 = min(y0, FLOOR)
    return x0, y0, x1, y1


def _prop_bounds(prop: Prop) -> tuple[float, float, float, float]:
    p = prop.params
    if prop.kind == "chair":
        x, seat = float(p.get("x", 0.0)), float(p.get("seat", 0.27))
        return x - 0.16, 0.0, x + 0.16, seat + 0.34
    if prop.kind == "wall":
        x = float(p["x"])
        return x - 0.02, 0.0, x + 0.05, 0.2
    if prop.kind == "bike":
        x, y = float(p.get("x", 0.0)), float(p.get("y", 0.3))
        wheel = float(p.get("wheel", 0.2))
        return x - 0.42 - wheel - 0.02, 0.0, x + 0.40 + wheel + 0.02, y + 0.1
    return math.inf, math.inf, -math.inf, -math.inf


def _limits(
    box: tuple[float, float, float, float], width_px: int, height_px: int, view: str
) -> tuple[float, float, float, float]:
    """Axis limits that fit ``box`` with a margin and keep one unit the same length on both axes."""
    x0, y0, x1, y1 = box
    margin = 0.07
    x0, x1, y1 = x0 - margin, x1 + margin, y1 + margin
    y0 = y0 - margin if view == "top" else y0 - 0.06  # room for the floor band
    span_x, span_y = x1 - x0, y1 - y0
    aspect = width_px / height_px
    if span_x / span_y > aspect:
        extra = span_x / aspect - span_y
        below = 0.5 if view == "top" else 0.35  # keep the floor low in the panel
        y0, y1 = y0 - extra * below, y1 + extra * (1 - below)
    else:
        extra = span_y * aspect - span_x
        x0, x1 = x0 - extra / 2, x1 + extra / 2
    return x0, x1, y0, y1


def _is_wide(box: tuple[float, float, float, float]) -> bool:
    return (box[2] - box[0]) > WIDE_ABOVE * (box[3] - box[1])


def _points_per_unit(ax: Axes, width_px: int) -> float:
    x0, x1 = ax.get_xlim()
    return width_px / (x1 - x0) * 72.0 / DPI


def _draw_scene(
    ax: Axes,
    figure: ExerciseFigure,
    skeleton: Skeleton | None,
    limits: tuple[float, float, float, float],
    width_px: int,
) -> None:
    x0, x1, y0, y1 = limits
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_facecolor(BACKGROUND)
    scale = _points_per_unit(ax, width_px)
    _draw_background_props(ax, figure, limits, scale)
    if skeleton is not None:
        _draw_body(ax, figure, skeleton, scale)
    _draw_foreground_props(ax, figure, scale)


def _draw_background_props(ax: Axes, figure: ExerciseFigure, limits: tuple[float, float, float, float],
                           scale: float) -> None:  # fmt: skip
    from matplotlib.patches import FancyBboxPatch, Rectangle

    x0, x1, y0, _ = limits
    water = next((p for p in figure.props if p.kind == "water"), None)
    if water is not None:
        level = float(water.params.get("y", 0.0))
        ax.add_patch(Rectangle((x0, y0), x1 - x0, level - y0, facecolor=WATER, edgecolor="none", zorder=0))
        xs = [x0 + (x1 - x0) * i / 200 for i in range(201)]
        ax.plot(xs, [level + 0.012 * math.sin(x * 28) for x in xs], color="#a9c9d6", linewidth=0.02 * scale,
                solid_capstyle="round", zorder=0.5)  # fmt: skip
    elif figure.view != "top":
        mat = any(p.kind == "mat" for p in figure.props)
        ground = FLOOR - (MAT_THICKNESS if mat else 0.0)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, ground - y0, facecolor=GROUND, edgecolor="none", zorder=0))
        ax.plot([x0, x1], [ground, ground], color=PROP, linewidth=0.01 * scale, zorder=0.2)
    for prop in figure.props:
        p = prop.params
        if prop.kind == "mat" and figure.view == "top":
            (ax0, ay0), (ax1, ay1) = p.get("from", [-0.3, -0.6]), p.get("to", [0.3, 0.6])
            ax.add_patch(FancyBboxPatch((ax0, ay0), ax1 - ax0, ay1 - ay0, boxstyle="round,pad=0,rounding_size=0.05",
                                        facecolor=MAT_TOP, edgecolor="none", zorder=0.3))  # fmt: skip
        elif prop.kind == "mat":
            start, end = _mat_span(figure, p)
            ax.add_patch(FancyBboxPatch((start, FLOOR - MAT_THICKNESS), end - start, MAT_THICKNESS,
                                        boxstyle=f"round,pad=0,rounding_size={MAT_THICKNESS / 2}",
                                        facecolor=MAT, edgecolor="none", zorder=0.3))  # fmt: skip
        elif prop.kind == "wall":
            x = float(p["x"])
            ax.add_patch(Rectangle((x, FLOOR), 1.0, 5.0, facecolor=PROP, edgecolor="none", zorder=0.2))
            ax.plot([x, x], [FLOOR, 5.0], color=PROP_DARK, linewidth=0.012 * scale, zorder=0.25)
        elif prop.kind == "chair":
            _draw_chair(ax, figure.view, p, scale)
        elif prop.kind == "bike":
            _draw_bike(ax, p, scale)


def _mat_span(figure: ExerciseFigure, params: Mapping[str, Any]) -> tuple[float, float]:
    """The mat under the body: as given, or from just behind to just beyond every key pose."""
    if "from" in params and "to" in params:
        return float(params["from"]), float(params["to"])
    boxes = [figure.skeleton(name).bounds() for name in figure.poses]
    return min(b[0] for b in boxes) - 0.05, max(b[2] for b in boxes) + 0.05


def _draw_foreground_props(ax: Axes, figure: ExerciseFigure, scale: float) -> None:
    for prop in figure.props:
        if prop.kind == "bike":
            p = prop.params
            x, y = float(p.get("x", 0.0)), float(p.get("y", 0.3))
            ax.plot([x], [y], marker="o", markersize=0.05 * scale, color=PROP_DARK, zorder=3)


def _draw_chair(ax: Axes, view: str, p: Mapping[str, Any], scale: float) -> None:
    x, seat = float(p.get("x", 0.0)), float(p.get("seat", 0.27))
    facing = float(p.get("facing", 1.0))
    width = 0.035 * scale
    style: dict[str, Any] = {"color": PROP_DARK, "linewidth": width, "solid_capstyle": "round", "zorder": 0.4}
    if view == "side":
        back, front = x - 0.13 * facing, x + 0.12 * facing
        ax.plot([back, front], [seat - 0.02, seat - 0.02], **style)
        ax.plot([back, back], [FLOOR + 0.015, seat + 0.33], **style)
        ax.plot([front, front], [FLOOR + 0.015, seat - 0.02], **style)
    else:  # seen from the front: seat, two legs, the top of the backrest behind the body
        ax.plot([x - 0.15, x + 0.15], [seat - 0.02, seat - 0.02], **style)
        ax.plot([x - 0.13, x - 0.13], [FLOOR + 0.015, seat - 0.02], **style)
        ax.plot([x + 0.13, x + 0.13], [FLOOR + 0.015, seat - 0.02], **style)
        ax.plot([x - 0.12, x + 0.12], [seat + 0.3, seat + 0.3], **style)
        ax.plot([x - 0.12, x - 0.12], [seat + 0.3, seat + 0.1], **style)
        ax.plot([x + 0.12, x + 0.12], [seat + 0.3, seat + 0.1], **style)


def _draw_bike(ax: Axes, p: Mapping[str, Any], scale: float) -> None:
    from matplotlib.patches import Circle

    crank_x, crank_y = float(p.get("x", 0.0)), float(p.get("y", 0.3))
    wheel = float(p.get("wheel", 0.2))
    back = (crank_x - 0.42, wheel)
    front = (crank_x + 0.40, wheel)
    seat = tuple(float(v) for v in p.get("saddle", (crank_x - 0.14, crank_y + 0.33)))
    bars = tuple(float(v) for v in p.get("bars", (crank_x + 0.2, crank_y + 0.45)))
    width = 0.022 * scale
    for centre in (back, front):
        ax.add_patch(
            Circle(centre, wheel, facecolor="none", edgecolor=PROP_DARK, linewidth=width, zorder=0.4)
        )
    style: dict[str, Any] = {"color": PROP_DARK, "linewidth": width, "solid_capstyle": "round", "solid_joinstyle": "round",
             "zorder": 0.4}  # fmt: skip
    head = (bars[0] + 0.05, bars[1] - 0.16)
    ax.plot([back[0], crank_x, seat[0] + 0.02, back[0]], [back[1], crank_y, seat[1] - 0.04, back[1]], **style)
    ax.plot([crank_x, head[0], seat[0] + 0.02], [crank_y, head[1], seat[1] - 0.04], **style)
    ax.plot([head[0], front[0]], [head[1], front[1]], **style)
    ax.plot([head[0], bars[0]], [head[1], bars[1]], **style)
    ax.plot([bars[0] - 0.02, bars[0] + 0.05], [bars[1], bars[1] + 0.01], **style)
    ax.plot([seat[0] - 0.06, seat[0] + 0.07], [seat[1], seat[1]], **{**style, "linewidth": width * 2})
    ax.add_patch(Circle((crank_x, crank_y), float(p.get("crank", 0.09)), facecolor="none", edgecolor=PROP,
                        linewidth=width * 0.8, linestyle=(0, (2, 2)), zorder=0.35))  # fmt: skip


def _colour(figure: ExerciseFigure, group: str, layer: int) -> str:
    if group in figure.works:
        return ACCENT_FAR if layer == 0 else ACCENT
    return BODY_FAR if layer == 0 else BODY


def _draw_body(ax: Axes, figure: ExerciseFigure, skeleton: Skeleton, scale: float) -> None:
    from matplotlib.patches import Circle

    for layer in (0, 1, 2):
        zorder = 1 + layer
        for segment in skeleton.segments:
            if segment.layer != layer:
                continue
            xs = [p[0] for p in segment.points]
            ys = [p[1] for p in segment.points]
            ax.plot(xs, ys, color=_colour(figure, segment.group, layer), linewidth=segment.width * scale,
                    solid_capstyle="round", solid_joinstyle="round", zorder=zorder)  # fmt: skip
        if layer == 1:
            ax.add_patch(
                Circle(skeleton.head, skeleton.head_radius, facecolor=BODY, edgecolor="none", zorder=zorder)
            )
            if skeleton.nose is not None:
                ax.add_patch(Circle(skeleton.nose, skeleton.head_radius * 0.3, facecolor=BODY, edgecolor="none",
                                    zorder=zorder))  # fmt: skip


def _draw_arrows(ax: Axes, figure: ExerciseFigure, start: Skeleton, end: Skeleton, scale: float,
                 both_ways: bool) -> None:  # fmt: skip
    from matplotlib.patches import FancyArrowPatch

    for arrow in figure.arrows:
        if arrow.point is not None:
            a, b = start.points[arrow.point], end.points[arrow.point]
        else:
            assert arrow.start is not None and arrow.end is not None
            a, b = arrow.start, arrow.end
        a = (a[0] + arrow.offset[0], a[1] + arrow.offset[1])
        b = (b[0] + arrow.offset[0], b[1] + arrow.offset[1])
        length = math.dist(a, b)
        cut = arrow.shorten * length
        patch = FancyArrowPatch(
            a, b,
            arrowstyle="<|-|>" if both_ways else "-|>",
            connectionstyle=f"arc3,rad={arrow.bend}",
            shrinkA=cut * scale, shrinkB=cut * scale,
            mutation_scale=0.075 * scale,
            linewidth=0.022 * scale,
            color=ACCENT,
            capstyle="round",
            joinstyle="round",
            zorder=6,
        )  # fmt: skip
        ax.add_patch(patch)


def _save_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND, metadata={"Software": None},
                   pil_kwargs={"optimize": True})  # fmt: skip
    return buffer.getvalue()


def _key_skeletons(figure: ExerciseFigure) -> tuple[Skeleton, Skeleton]:
    return figure.skeleton("start"), figure.skeleton("end")


def render_panels(figure: ExerciseFigure) -> bytes:
    """The start and end positions: stacked for a lying body, side by side for an upright one (PNG)."""
    start, end = _key_skeletons(figure)
    extra = (
        [pose_skeleton(figure, pose) for pose, _ in _frame_poses(figure)] if figure.motion == "gif" else []
    )
    box = _bounds(figure, [start, end, *extra])
    wide = _is_wide(box)
    width, height = WIDE_PANEL_PX if wide else TALL_PANEL_PX
    total_w, total_h = (width, height * 2 + GAP_PX) if wide else (width * 2 + GAP_PX, height)
    canvas = _new_figure(total_w, total_h)
    limits = _limits(box, width, height, figure.view)
    for index, skeleton in enumerate((start, end)):
        if wide:
            rect = (0.0, (1 - index) * (height + GAP_PX) / total_h, 1.0, height / total_h)
        else:
            rect = (index * (width + GAP_PX) / total_w, 0.0, width / total_w, 1.0)
        ax = canvas.add_axes(rect)
        _draw_scene(ax, figure, skeleton, limits, width)
        if index == 0:
            _draw_arrows(ax, figure, start, end, _points_per_unit(ax, width), both_ways=False)
        ax.text(12 / width, 1 - 10 / height, "start" if index == 0 else "end", transform=ax.transAxes,
                fontsize=14, color=LABEL, ha="left", va="top", family="DejaVu Sans")  # fmt: skip
    canvas.lines.append(_chevron(canvas, total_w, total_h, wide))
    return _save_png(canvas)


def _chevron(canvas: Figure, total_w: int, total_h: int, down: bool) -> Any:
    """A small › between the panels (pointing down when they are stacked)."""
    from matplotlib.lines import Line2D

    w, h = 7 / total_w, 7 / total_h
    if down:
        return Line2D([0.5 - w * 1.5, 0.5, 0.5 + w * 1.5], [0.5 + h, 0.5 - h, 0.5 + h], transform=canvas.transFigure,
                      color=PROP_DARK, linewidth=3.5, solid_capstyle="round", solid_joinstyle="round")  # fmt: skip
    return Line2D([0.5 - w, 0.5 + w, 0.5 - w], [0.5 + h * 1.5, 0.5, 0.5 - h * 1.5], transform=canvas.transFigure,
                  color=PROP_DARK, linewidth=3.5, solid_capstyle="round", solid_joinstyle="round")  # fmt: skip


def render_gif(figure: ExerciseFigure) -> bytes:
    """A looping animation through the key poses (GIF, one shared palette, no dithering)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    frames = _frame_poses(figure)
    skeletons = [pose_skeleton(figure, pose) for pose, _ in frames]
    box = _bounds(figure, skeletons)
    width, height = WIDE_GIF_PX if _is_wide(box) else TALL_GIF_PX
    limits = _limits(box, width, height, figure.view)
    start, end = _key_skeletons(figure)
    images: list[Image.Image] = []
    canvas = _new_figure(width, height)
    ax = canvas.add_axes((0.0, 0.0, 1.0, 1.0))
    _draw_scene(ax, figure, None, limits, width)  # the floor, the props and the arrow stay put
    scale = _points_per_unit(ax, width)
    _draw_arrows(ax, figure, start, end, scale, both_ways=True)
    agg = canvas.canvas
    assert isinstance(agg, FigureCanvasAgg)
    for skeleton in skeletons:
        lines, patches = len(ax.lines), len(ax.patches)
        _draw_body(ax, figure, skeleton, scale)
        agg.draw()
        rgba = bytes(agg.buffer_rgba())
        images.append(Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1).convert("RGB"))
        for artist in [*ax.lines[lines:], *ax.patches[patches:]]:
            artist.remove()
    # one palette for every frame, taken from the held key poses (they hold every colour in use)
    held = [image for image, (_, duration) in zip(images, frames, strict=True) if duration == HOLD_MS]
    sheet = Image.new("RGB", (width, height * len(held)))
    for i, image in enumerate(held):
        sheet.paste(image, (0, i * height))
    palette = sheet.quantize(colors=GIF_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    indexed = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in images]
    buffer = io.BytesIO()
    indexed[0].save(buffer, format="GIF", save_all=True, append_images=indexed[1:], loop=0,
                    duration=[d for _, d in frames], optimize=False, disposal=1)  # fmt: skip
    return buffer.getvalue()


def render(figure: ExerciseFigure) -> Picture:
    """The exercise's picture: GIF for movements, PNG panels otherwise."""
    if figure.motion == "gif":
        return Picture(render_gif(figure), "gif")
    return Picture(render_panels(figure), "png")


# --- the disk cache ------------------------------------------------------------------------------------

_lock = threading.Lock()


def cached_image(exercise_id: str, folder: Path) -> tuple[Path, str, Kind]:
    """The picture file for ``exercise_id`` under ``folder`` (rendered on first use), its key and kind.

    The file name carries the hash of the pose data and the renderer version, so a change to either
    renders afresh; a file is written to a temporary name first, so a reader never sees half of one.
    """
    figure = figures()[exercise_id]
    key = image_key(figure)
    kind = picture_kind(figure)
    path = folder / f"{exercise_id}-{key}.{kind}"
    if path.is_file():
        return path, key, kind
    picture = render(figure)
    folder.mkdir(parents=True, exist_ok=True)
    with _lock:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{exercise_id}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(picture.data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return path, key, kind


# --- contact sheet -------------------------------------------------------------------------------------


def contact_sheet(ids: Sequence[str] | None = None, columns: int = 3) -> bytes:
    """Every exercise's start and end panels on one PNG, named, for looking them over."""
    from PIL import Image, ImageDraw

    chosen = list(ids or figures())
    tile_w = 560
    tiles = []
    for exercise_id in chosen:
        panels = Image.open(io.BytesIO(render_panels(figures()[exercise_id]))).convert("RGB")
        panels = panels.resize((tile_w, panels.height * tile_w // panels.width))
        tile = Image.new("RGB", (tile_w, panels.height + 22), "white")
        tile.paste(panels, (0, 22))
        label = exercise_id + (" (animated)" if figures()[exercise_id].motion == "gif" else "")
        ImageDraw.Draw(tile).text((6, 5), label, fill="black")
        tiles.append(tile)
    rows = [tiles[i : i + columns] for i in range(0, len(tiles), columns)]
    heights = [max(t.height for t in row) + 12 for row in rows]
    sheet = Image.new("RGB", ((tile_w + 12) * columns, sum(heights)), "white")
    top = 0
    for row, height in zip(rows, heights, strict=True):
        for i, tile in enumerate(row):
            sheet.paste(tile, (i * (tile_w + 12), top))
        top += height
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render the exercise pictures.")
    parser.add_argument("--sheet", type=Path, help="write a contact sheet of every exercise to this PNG")
    parser.add_argument("--out", type=Path, help="write each exercise's picture into this folder")
    parser.add_argument("--only", nargs="*", help="exercise ids (default: all)")
    parser.add_argument("--columns", type=int, default=3)
    args = parser.parse_args(argv)
    ids = args.only or list(figures())
    if args.sheet:
        args.sheet.write_bytes(contact_sheet(ids, args.columns))
        print(f"wrote {args.sheet}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for exercise_id in ids:
            picture = render(figures()[exercise_id])
            target = args.out / f"{exercise_id}.{picture.kind}"
            target.write_bytes(picture.data)
            print(f"{target}: {len(picture.data) / 1000:.1f} KB")


if __name__ == "__main__":
    main()
