"""Fast PNG rendering for the dashboards: an Agg canvas that draws each piece of text only once.

A dashboard redraws its figure several times a second, and most of a redraw is text: tick
labels, axis labels, titles, legends. Matplotlib rasterises every string glyph by glyph on
every draw. ``CachedTextCanvas`` keeps the rasterised coverage of each (string, font, angle,
sub-pixel offset) and stamps it in one call the next time, with the colour of that draw: the
picture is the same, to within the rounding of overlapping glyph edges.

    png = render_png(fig, dpi=100)          # what the dashboards show (PNG bytes)

The pixels are written to PNG by ``encode_png``: no row filters and light zlib compression,
about three times as fast as Pillow's adaptive filters for files a few percent larger (a
dashboard sends pictures of 30-60 kB several times a second; encoding was a third of a redraw).

Horizontal and vertical text (math text included) is cached; TeX and other angles are drawn
as matplotlib draws them. Anything unexpected (another matplotlib version) switches the cache
off with one ``TextCacheWarning`` and falls back to the ordinary drawing, never to an error.

A dashboard's figure says what moves from one picture to the next with one call, which also
gives it its title:

    self.title = moving(self.fig, self.line, self.points, title="")   # the rest is background
"""
from __future__ import annotations

import io
import math
import struct
import threading
import warnings
import zlib
from collections import OrderedDict

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

__all__ = ["CachedTextCanvas", "moving", "animated_artists", "render_png", "encode_png", "clear_text_cache",
           "TextCacheWarning"]

#: Rasterised strings kept (least recently used dropped first); each is a small uint8 array.
MAX_CACHED = 4096
#: PNG compression (zlib level): 1 encodes several times as fast as the default 6, for files
#: a little larger.
COMPRESS_LEVEL = 1

_cache: OrderedDict = OrderedDict()
_sizes: dict = {}
_metrics: dict = {}
_lock = threading.Lock()
_enabled = True


class TextCacheWarning(UserWarning):
    """The text cache met something it does not know and is off from now on (pictures are
    unchanged, drawing text is slower)."""


def clear_text_cache() -> None:
    """Forget every rasterised string (e.g. after changing fonts in rcParams)."""
    with _lock:
        _cache.clear()
        _sizes.clear()
        _metrics.clear()


def _font_key(prop) -> tuple:
    rc = mpl.rcParams
    get = dict.get                  # the settings as stored: rcParams' own lookup is slower
    return (hash(prop), prop.get_size_in_points(), tuple(get(rc, "font.sans-serif")),
            get(rc, "mathtext.fontset"), get(rc, "text.hinting"), get(rc, "text.hinting_factor"))


class _TextCachingRendererAgg(RendererAgg):
    """RendererAgg whose ``draw_text`` stamps cached glyph coverage for 0 and 90 degree text."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        global _enabled
        if not _enabled or ismath not in (False, True) or angle not in (0, 90) or not s:
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        try:
            ix, iy = math.floor(x), math.floor(y)
            fx, fy = round(x - ix, 3), round(y - iy, 3)
            extras = ()
            if mtext is not None and hasattr(mtext, "get_fontfeatures"):
                features = mtext.get_fontfeatures()
                extras = (tuple(features) if features else None, mtext.get_language())
            key = (s, ismath, _font_key(prop), angle, bool(gc.get_antialiased()), self.dpi, fx, fy, extras)
            with _lock:
                entry = _cache.get(key)
                if entry is not None:
                    _cache.move_to_end(key)
            if entry is None:
                entry = self._rasterise(s, prop, angle, ismath, fx, fy, gc.get_antialiased(), mtext)
                with _lock:
                    _cache[key] = entry
                    while len(_cache) > MAX_CACHED:
                        _cache.popitem(last=False)
            coverage, dx, dy = entry
            if coverage is not None:
                # draw_text_image: y is the row just below the image (rows grow downwards)
                self._renderer.draw_text_image(coverage, ix + dx, iy + dy, 0, gc)
        except Exception as error:  # noqa: BLE001 - an unforeseen matplotlib: draw as it does, from now on
            _enabled = False
            warnings.warn(f"course.plots.render: the text cache is off from now on ({type(error).__name__}: "
                          f"{error}); matplotlib draws the text itself (the same picture, more slowly).",
                          TextCacheWarning, stacklevel=2)
            super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    def _rasterise(self, s, prop, angle, ismath, fx, fy, antialiased, mtext):
        """Draw ``s`` in black on a small transparent canvas; return (coverage, dx, dy): the
        crop of its alpha channel and where the crop sits relative to the text's anchor."""
        w, h, d = self.get_text_width_height_descent(s, prop, ismath)
        pad = 4 + math.ceil(h)      # generous: the crop below keeps only the inked pixels
        if angle == 0:
            width, height = math.ceil(w) + 2 * pad, math.ceil(h) + 2 * pad
            ox, oy = pad, pad + math.ceil(h - d)
        else:  # 90: the text runs upwards, its ascent to the left of the anchor
            width, height = math.ceil(h) + 2 * pad, math.ceil(w) + 2 * pad
            ox, oy = pad + math.ceil(h - d), pad + math.ceil(w)
        scratch = RendererAgg(width, height, self.dpi)
        gc = scratch.new_gc()
        gc.set_antialiased(antialiased)
        gc.set_foreground((0.0, 0.0, 0.0, 1.0))
        RendererAgg.draw_text(scratch, gc, ox + fx, oy + fy, s, prop, angle, ismath=ismath, mtext=mtext)
        gc.restore()
        alpha = np.asarray(scratch.buffer_rgba())[:, :, 3]
        rows = np.flatnonzero(alpha.any(axis=1))
        if rows.size == 0:
            return None, 0, 0
        cols = np.flatnonzero(alpha.any(axis=0))
        coverage = np.ascontiguousarray(alpha[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
        return coverage, int(cols[0]) - ox, int(rows[-1]) + 1 - oy

    def get_text_width_height_descent(self, s, prop, ismath):
        # matplotlib keeps these per renderer: a new figure would measure every string again
        if ismath not in (False, True):
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (s, ismath, _font_key(prop), self.dpi)
        found = _sizes.get(key)
        if found is None:
            found = super().get_text_width_height_descent(s, prop, ismath)
            with _lock:
                if len(_sizes) >= MAX_CACHED:
                    _sizes.clear()
                _sizes[key] = found
        return found

    def _get_font_height_metrics(self, prop):
        """(ascent, descent, line gap) of a font in pixels, as ``Text`` measures them, kept per
        font: matplotlib otherwise reads the font's tables again for every text it lays out."""
        key = (_font_key(prop), self.dpi)
        found = _metrics.get(key)
        if found is None:
            found = (None, None, None)
            try:
                from matplotlib.font_manager import fontManager, get_font

                font = get_font(fontManager._find_fonts_by_props(prop))
                for table_name, gap_key, ascent_key, descent_key in (
                        ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                        ("hhea", "lineGap", "ascent", "descent")):
                    table = font.get_sfnt_table(table_name)
                    if table is None:
                        continue
                    scale = prop.get_size_in_points() * self.dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
                    found = (table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale)
                    break
            except Exception:  # noqa: BLE001 - matplotlib measures the text itself instead
                found = (None, None, None)
            _metrics[key] = found
        return found


class CachedTextCanvas(FigureCanvasAgg):
    """An Agg canvas whose renderer draws each string once and reuses its pixels afterwards.

    It also keeps the background of a figure whose changing parts are marked "animated"
    (``artist.set_animated(True)``: the lines, points and images that move from one redraw to
    the next, the legends drawn over them, a title that counts steps): the axes, ticks, labels
    and everything else not animated are drawn once, and each later ``draw`` puts that picture
    back and draws only the animated artists on it, each Axes' in the order of their zorder.
    Matplotlib marks a figure "stale" when anything in it that is not animated changes (new
    limits, a new title); the background is then drawn again. A figure with no animated artist
    is drawn whole every time, as by matplotlib. Saving a figure (``savefig``) draws everything,
    animated or not.
    """

    def __init__(self, figure=None):
        super().__init__(figure)
        self._background = None         # (renderer size, the pixels without animated artists)
        self._own_draw = False
        self.backgrounds_drawn = self.backgrounds_reused = 0       # counters, for tests
        self.mpl_connect("draw_event", self._drawn_elsewhere)

    def get_renderer(self, *args, **kwargs):
        renderer = super().get_renderer(*args, **kwargs)
        if not isinstance(renderer, _TextCachingRendererAgg):
            renderer = _TextCachingRendererAgg(renderer.width, renderer.height, renderer.dpi)
            self.renderer = renderer
        return renderer

    def _drawn_elsewhere(self, _event) -> None:
        if not self._own_draw:          # savefig and the like: the background may be out of date
            self._background = None

    def draw(self):
        figure = self.figure
        animated = animated_artists(figure)
        if not animated:
            self._background = None
            return super().draw()
        renderer = self.get_renderer()
        size = (renderer.width, renderer.height, renderer.dpi)
        self._own_draw = True
        try:
            if self._background is None or self._background[0] != size or figure.stale:
                super().draw()                      # matplotlib leaves animated artists out
                self._background = (size, self.copy_from_bbox(figure.bbox))
                self.backgrounds_drawn += 1
            else:
                self.restore_region(self._background[1])
                self.backgrounds_reused += 1
            for artist in animated:
                artist.draw(renderer)
        finally:
            self._own_draw = False
        for ax in figure.axes:                      # drawing an artist may mark its Axes changed
            ax.stale = False
        figure.stale = False


def moving(figure, *artists, title: str | None = None, **title_style):
    """Mark ``artists`` as what moves from one picture of ``figure`` to the next; with ``title``,
    also place the figure's title, which moves too, and return it (a ``Text``).

    ``CachedTextCanvas`` draws everything else once and keeps it as the background (see its
    documentation); the moving artists are drawn over it for each picture. None is skipped.

    The title sits where ``figure.suptitle`` puts one, in the same font, and changes with every
    picture (a dashboard's title names its settings): it is a text of the first Axes placed in
    figure coordinates, because matplotlib leaves a figure's own moving texts out when the
    figure is saved. ``title_style``: Text properties (``fontsize=...``).

    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); line, = fig.subplots().plot([0, 1])
    >>> moving(fig, line, title="step 1").get_text(), line.get_animated()
    ('step 1', True)
    """
    for artist in artists:
        if artist is not None:
            artist.set_animated(True)
    if title is None:
        return None
    rc = mpl.rcParams
    style = {"fontsize": rc["figure.titlesize"], "fontweight": rc["figure.titleweight"], **title_style}
    text = figure.axes[0].text(0.5, 0.98, title, transform=figure.transFigure, ha="center", va="top",
                               clip_on=False, **style)
    text.set_animated(True)
    return text


def animated_artists(figure) -> list:
    """The visible animated artists of ``figure`` in drawing order: each Axes' (by zorder),
    then the figure's own."""
    found = []
    for parent in [*figure.axes, figure]:
        children = [c for c in parent.get_children() if c.get_animated() and c.get_visible()]
        found.extend(sorted(children, key=lambda c: c.get_zorder()))
    return found


def render_png(fig, dpi: float | None = None, description: str | None = None) -> bytes:
    """PNG bytes of ``fig`` drawn on a ``CachedTextCanvas`` (attached to the figure once, so
    its renderer and matplotlib's text measurements are reused from one redraw to the next).
    ``description``, if given, is stored in the file's "Description" text chunk."""
    if not isinstance(fig.canvas, CachedTextCanvas):
        CachedTextCanvas(fig)
    if dpi is not None and dpi != fig.dpi:          # another resolution: matplotlib's own path
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": COMPRESS_LEVEL},
                    metadata={"Description": description} if description else None)
        return buffer.getvalue()
    fig.canvas.draw()
    return encode_png(np.asarray(fig.canvas.buffer_rgba()), description, dpi=fig.dpi)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rgba: np.ndarray, description: str | None = None, dpi: float | None = None) -> bytes:
    """A PNG file of an (height, width, 4) uint8 image: 8-bit RGBA, every row unfiltered
    (filter type 0), compressed by zlib at ``COMPRESS_LEVEL``. ``description``: a "Description"
    text chunk (Latin-1; other characters become '?'); ``dpi``: the physical size (pHYs).

    >>> png = encode_png(np.zeros((2, 3, 4), np.uint8), "two by three")
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", struct.unpack(">II", png[16:24])
    (True, (3, 2))
    """
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"encode_png expects an (height, width, 4) uint8 array, got {rgba.dtype} {rgba.shape}.")
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + 4 * width), np.uint8)
    rows[:, 0] = 0                                  # each row starts with its filter type: none
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))]
    if dpi:
        per_metre = round(dpi / 0.0254)
        parts.append(_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))
    if description:
        parts.append(_chunk(b"tEXt", b"Description\0" + description.encode("latin-1", "replace")))
    parts += [_chunk(b"IDAT", zlib.compress(rows.tobytes(), COMPRESS_LEVEL)), _chunk(b"IEND", b"")]
    return b"".join(parts)
