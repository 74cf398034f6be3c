"""Pictures of a release: the lineage graph as an SVG, and report.html as a PNG for review.

`lineage_svg` draws every layer as a box (table name, data version, rows) with an arrow from each
input it read, earliest layer on top; the sources feed the layers that read no table. An input a
longer path already implies gets no arrow of its own (the report's table lists every input). It is
plain SVG text, so report.html embeds it and stays one self-contained file.

`render_png` screenshots a local HTML file with headless Chromium (Debian's `chromium`, installed
by `make deps`), full page: a first pass measures the page height, the second takes the shot at
that height (at most `MAX_HEIGHT` pixels). Chromium runs with networking extras off and a
throw-away profile. The PNG belongs next to a release folder, never inside the signed folder.

Example:
    >>> svg = lineage_svg([{"table": "corpus_documents", "asset": "corpus_documents",
    ...     "run_id": "r1", "code_version": "corpus-v3", "data_version": "ab12", "inputs": {}}],
    ...     ["banking77"])
    >>> svg.startswith("<svg") and "corpus_documents" in svg
    True
    >>> render_png(release / "report.html", home.report_png("v1"))  # doctest: +SKIP
    PosixPath('.../v1.report.png')
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from lineage.errors import LineageError
from lineage.release.info import LayerEntry

__all__ = ["CHROMIUM", "MAX_HEIGHT", "chromium_path", "lineage_svg", "render_png"]

CHROMIUM = "/usr/bin/chromium"
MAX_HEIGHT = 16_000
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_BOX_W, _BOX_H, _COL_W, _ROW_H, _PAD, _SWING = 170, 46, 200, 70, 12, 9
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=20000",
)
_HEIGHT = re.compile(r"<title>factory-height:(\d+)</title>")


def _depths(nodes: list[str], parents: dict[str, list[str]]) -> dict[str, int]:
    depth: dict[str, int] = {}

    def visit(node: str, seen: frozenset[str]) -> int:
        if node not in depth:
            ups = [p for p in parents.get(node, []) if p not in seen]
            depth[node] = 1 + max((visit(p, seen | {node}) for p in ups), default=-1)
        return depth[node]

    for node in nodes:
        visit(node, frozenset())
    return depth


def _reduced(parents: dict[str, list[str]]) -> dict[str, list[str]]:
    """`parents` without the inputs a longer path already implies (a transitive reduction)."""
    ancestors: dict[str, set[str]] = {}

    def above(node: str, seen: frozenset[str]) -> set[str]:
        if node not in ancestors:
            found: set[str] = set()
            for p in parents.get(node, []):
                if p not in seen:
                    found |= {p} | above(p, seen | {node})
            ancestors[node] = found
        return ancestors[node]

    return {
        child: [p for p in ups if not any(p in above(q, frozenset({child})) for q in ups if q != p)]
        for child, ups in parents.items()
    }


def _edge(
    parent: tuple[float, float], child: tuple[float, float], span: int, box: tuple[float, float]
) -> str:
    """A curve from the bottom of `parent` to the top of `child`; one that skips rows swings
    out beside the boxes (`box`: left and right edge of them all), on the parent's side."""
    (px, py), (cx, cy) = parent, child
    if span <= 1:
        x1, y1, x2, y2 = px + _BOX_W / 2, py + _BOX_H, cx + _BOX_W / 2, cy
        mid = (y1 + y2) / 2
        return f"M{x1:g},{y1:g} C{x1:g},{mid:g} {x2:g},{mid:g} {x2:g},{y2:g}"
    left, right = box
    if px + _BOX_W / 2 < (left + right) / 2:
        x1, x2, swing = px, cx, left - _SWING * span
    else:
        x1, x2, swing = px + _BOX_W, cx + _BOX_W, right + _SWING * span
    y1, y2 = py + _BOX_H / 2, cy + _BOX_H / 2
    return f"M{x1:g},{y1:g} C{swing:g},{y1:g} {swing:g},{y2:g} {x2:g},{y2:g}"


def lineage_svg(layers: Sequence[LayerEntry], sources: Sequence[str]) -> str:
    """An SVG of the layers (boxes, earliest on top) and what each read (arrows, transitively
    reduced); the sources feed the layers that read no table."""
    info = {layer["table"]: layer for layer in layers}
    parents: dict[str, list[str]] = {}
    for layer in layers:
        ups = list(layer["inputs"]) or [f"source {s}" for s in sources]
        parents[layer["table"]] = sorted(set(parents.get(layer["table"], [])) | set(ups))
    nodes = sorted({*info, *(p for ups in parents.values() for p in ups)})
    depth = _depths(nodes, parents)
    rows: dict[int, list[str]] = {}
    for node in sorted(nodes, key=lambda n: (depth[n], n)):
        rows.setdefault(depth[node], []).append(node)
    widest = max((len(m) for m in rows.values()), default=1)
    margin = _PAD + _SWING * (max(rows, default=0) + 1)
    grid = (widest - 1) * _COL_W + _BOX_W
    width = 2 * margin + grid
    height = _PAD * 2 + max(rows, default=0) * _ROW_H + _BOX_H
    place = {}
    for level, members in rows.items():
        left = margin + (widest - len(members)) * _COL_W / 2
        for i, node in enumerate(members):
            place[node] = (left + i * _COL_W, _PAD + level * _ROW_H)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width:g} {height}" '
        f'width="{width:g}" height="{height}" font-family="sans-serif" font-size="12">',
        "<title>Lineage of the release: each box is a table, each arrow what it was made from"
        "</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
        "</defs>",
    ]
    for child, ups in sorted(_reduced(parents).items()):
        for up in ups:
            span = depth[child] - depth[up]
            path = _edge(place[up], place[child], span, (margin, margin + grid))
            parts.append(
                f'<path d="{path}" fill="none" stroke="#777" stroke-width="1.2" '
                'marker-end="url(#arrow)"/>'
            )
    for node, (x, y) in place.items():
        layer = info.get(node)
        if layer is not None:
            version = (layer["data_version"] or "no version")[:10]
            rows_n = layer.get("rows")
            second = f"v {version}" + ("" if rows_n is None else f" · {rows_n:,} rows")
            style = 'fill="#eef4ff" stroke="#3461c1"'
        elif node.startswith("source "):
            second, style = "corpus source", 'fill="#f3f7ee" stroke="#5b8a2e"'
        else:
            second = "not in the ledger"
            style = 'fill="#fafafa" stroke="#999" stroke-dasharray="4 3"'
        label = node.removeprefix("source ")
        parts.append(
            f'<g><rect x="{x:g}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="6" {style}/>'
            f'<text x="{x + 8:g}" y="{y + 19}" font-weight="bold">{escape(label[:22])}</text>'
            f'<text x="{x + 8:g}" y="{y + 37}" fill="#444" font-size="11">{escape(second)}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def chromium_path() -> Path | None:
    """The Chromium binary (`chromium` on PATH, else /usr/bin/chromium), or None."""
    found = shutil.which("chromium")
    if found:
        return Path(found)
    return Path(CHROMIUM) if Path(CHROMIUM).is_file() else None


def _run(binary: Path, args: list[str], profile: str, timeout: float) -> str:
    cmd = [str(binary), *_FLAGS, f"--user-data-dir={profile}", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        msg = f"chromium did not finish within {timeout:.0f} s rendering {args[-1]}"
        raise LineageError(msg) from exc
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        msg = f"chromium exited with {done.returncode} rendering {args[-1]}: {' | '.join(tail)}"
        raise LineageError(msg)
    return done.stdout


def _page_height(binary: Path, html: Path, width: int, profile: str, timeout: float) -> int:
    script = (
        "<script>document.title='factory-height:'+Math.ceil(Math.max("
        "document.documentElement.scrollHeight,document.body.scrollHeight))</script>"
    )
    with tempfile.TemporaryDirectory(prefix="factory-page-") as page:
        probe = Path(page) / html.name
        text = html.read_text(encoding="utf-8")
        probe.write_text(text.replace("</body>", script + "</body>", 1), encoding="utf-8")
        args = [f"--window-size={width},800", "--dump-dom", probe.as_uri()]
        dom = _run(binary, args, profile, timeout)
    found = _HEIGHT.search(dom)
    if found is None:
        msg = f"could not measure the page height of {html} (chromium ran no script)"
        raise LineageError(msg)
    return int(found.group(1))


def render_png(
    html_path: Path,
    png_path: Path,
    *,
    width: int = 1280,
    chromium: Path | None = None,
    timeout: float = 120.0,
) -> Path:
    """Screenshot `html_path` (a local file), full page at `width` pixels, into `png_path`."""
    html_path, png_path = Path(html_path).resolve(), Path(png_path)
    if not html_path.is_file():
        msg = f"{str(html_path)!r} is not a file; render a written report.html"
        raise LineageError(msg)
    binary = Path(chromium) if chromium is not None else chromium_path()
    if binary is None or not binary.is_file():
        msg = (
            f"Chromium is not installed (looked for `chromium` on PATH and {CHROMIUM}); install "
            "it with `make deps` or `apt-get install --no-install-recommends chromium`"
        )
        raise LineageError(msg)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="factory-chromium-") as tmp:
        height = _page_height(binary, html_path, width, tmp, timeout)
        shot = Path(tmp) / "shot.png"
        size = f"--window-size={width},{min(max(height, 200), MAX_HEIGHT)}"
        _run(binary, [size, f"--screenshot={shot}", html_path.as_uri()], tmp, timeout)
        if not shot.is_file() or not shot.read_bytes().startswith(_PNG_MAGIC):
            msg = f"chromium wrote no PNG for {html_path}"
            raise LineageError(msg)
        shutil.copyfile(shot, png_path)
    return png_path
