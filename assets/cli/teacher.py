"""`factory probes` and `factory fault-proxy`: the teacher enumerates the domain; a rehearsal."""

from pathlib import Path
from typing import Annotated

import typer

from assets.cli.common import ConfigOption, console, load

__all__ = ["fault_proxy", "probes"]


def probes(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write the probes to.")],
    config: ConfigOption = None,
    per_cluster: Annotated[int, typer.Option(help="Probes asked for per cluster.", min=1)] = 5,
) -> None:
    """Ask the teacher to enumerate the domain; write the probes as a reference source (JSONL).

    Needs a materialized map (`factory run` first). Point `gaps.reference_source` at the file
    (kind jsonl) with `gaps.reference: source` to find coverage gaps against it.
    """
    from factory.gaps.probes import probe_inputs, save_probes, write_probes
    from factory.home import Home
    from factory.teacher import start_teacher

    cfg = load(config)
    home = Home.of(cfg)
    clusters, train = probe_inputs(home)
    console.print(
        f"asking the teacher for {per_cluster} probes on each of {clusters.height} clusters"
    )
    with start_teacher(cfg.teacher, home.logs) as teacher:
        texts = write_probes(teacher, clusters, train, cfg.teacher, per_cluster=per_cluster)
        path = save_probes(texts, out, teacher.fingerprint)
    console.print(f"{len(texts)} probes from {clusters.height} clusters written to {path}")


def fault_proxy(
    upstream: Annotated[str, typer.Argument(help="Base URL of the real server, e.g. …/v1.")],
    rate: Annotated[
        float, typer.Option(help="Share of POSTs that get a fault (split over 4 kinds).")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the fault sequence.")] = 0,
    hang_s: Annotated[float, typer.Option(help="Seconds a hung request stays open.")] = 30.0,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free one).")] = 0,
) -> None:
    """Serve a fault-injecting proxy (429 + Retry-After, 500, hangs, cut-off bodies) in front
    of an OpenAI-compatible server, to rehearse a teacher setup; prints its URL, Ctrl-C stops."""
    from factory.testing.fault_proxy import serve_fault_proxy

    serve_fault_proxy(upstream, rate, seed, hang_s, port)
