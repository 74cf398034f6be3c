"""Pictures in Dagster metadata: a PNG embedded in Markdown so the UI shows it inline."""

import base64
from pathlib import Path

import dagster as dg

__all__ = ["image_metadata"]


def image_metadata(path: Path, alt: str) -> dict[str, dg.MetadataValue]:
    """The PNG at `path` as an inline Markdown image plus its file path."""
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return {
        "map": dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{encoded})"),
        "map_path": dg.MetadataValue.path(str(path)),
    }
