"""Pictures of a release: the lineage SVG and a PNG of report.html rendered by Chromium."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lineage.errors import LineageError
from lineage.release.manifest import verify_manifest
from lineage.release.render import chromium_path, lineage_svg, render_png
from tests.fixtures.release import (
    PIPELINE,
    pipeline_ledger,
    train_frame,
    write_sample_release,
)

SVG = "{http://www.w3.org/2000/svg}"
needs_chromium = pytest.mark.skipif(
    chromium_path() is None,
    reason="Chromium is not installed (apt-get install chromium, or `make deps`)",
)


def test_lineage_svg_has_a_box_per_layer_earliest_on_top(tmp_path: Path) -> None:
    layers, _ = pipeline_ledger(tmp_path)
    root = ET.fromstring(lineage_svg(layers, ["banking77"]))
    labels = [g.findall(f"{SVG}text")[0].text for g in root.iter(f"{SVG}g")]
    assert sorted(labels) == sorted([t for t, _, _ in PIPELINE] + ["dataset_release", "banking77"])
    arrows = root.findall(f"{SVG}path")
    # the fixture's inputs reduce to a chain: one arrow into each layer
    assert len(arrows) == len(layers)
    boxes = {g.findall(f"{SVG}text")[0].text: g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g")}
    top = {name: float(rect.get("y")) for name, rect in boxes.items()}  # type: ignore[union-attr,arg-type]
    assert (
        top["banking77"] < top["corpus_documents"] < top["coverage_gaps"] < top["dataset_release"]
    )


def _layer(table: str, *inputs: str) -> dict[str, object]:
    return {"table": table, "asset": table, "run_id": "r", "code_version": "c",
            "data_version": "ab", "inputs": dict.fromkeys(inputs, "ab")}  # fmt: skip


def test_an_input_a_longer_path_implies_gets_no_arrow() -> None:
    layers = [_layer("a"), _layer("b", "a"), _layer("c", "a", "b"), _layer("d", "a")]
    root = ET.fromstring(lineage_svg(layers, ["src"]))  # type: ignore[arg-type]
    # src->a, a->b, b->c (a->c is implied), a->d
    assert len(root.findall(f"{SVG}path")) == 4


def test_an_input_missing_from_the_ledger_is_drawn_dashed() -> None:
    layer = {"table": "coverage_gaps", "asset": "coverage_gaps", "run_id": "r", "code_version": "c",
             "data_version": "ab", "inputs": {"semantic_map": "cd"}}  # fmt: skip
    svg = lineage_svg([layer], [])  # type: ignore[list-item]
    assert "not in the ledger" in svg
    assert 'stroke-dasharray="4 3"' in svg


@needs_chromium
def test_report_renders_to_a_real_png_beside_the_release(
    tmp_path: Path, banking77_slice: Path
) -> None:
    from PIL import Image

    release = write_sample_release(tmp_path, train_frame(banking77_slice))
    png = release.parent / f"{release.name}.report.png"
    assert render_png(release / "report.html", png) == png
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(png).convert("RGB")
    width, height = image.size
    assert width == 1280
    assert height > 3000  # the whole page, not one window
    colours = image.resize((64, 256)).getcolors(maxcolors=64 * 256)
    assert colours is not None
    assert len(colours) > 20  # text, tables and images, not a blank page
    assert verify_manifest(release) == []  # nothing was written into the signed folder
    assert not list(release.glob("*.png"))[1:]  # only map.png
    assert not list(release.glob(".*"))


def test_a_missing_chromium_is_named_with_the_fix(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text("<html><body>x</body></html>", encoding="utf-8")
    with pytest.raises(LineageError, match=r"Chromium is not installed.*apt-get install"):
        render_png(page, tmp_path / "x.png", chromium=tmp_path / "no-chromium")
    with pytest.raises(LineageError, match=r"is not a file; render a written report.html"):
        render_png(tmp_path / "missing.html", tmp_path / "x.png")
