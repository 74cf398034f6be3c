"""Embeddings layer: `document_embeddings` in LanceDB, cached by content hash and model."""

import dagster as dg
import polars as pl

from assets import console
from assets.lineage_step import lineage_step
from assets.metadata import table_metadata
from assets.resources import FactoryResource
from factory.hashing import fingerprint, frame_fingerprint
from factory.schemas import DOCUMENT_EMBEDDINGS

__all__ = ["EMBEDDINGS_CODE_VERSION", "document_embeddings"]

EMBEDDINGS_CODE_VERSION = "embeddings-v1"


@dg.asset(
    io_manager_key="lance_io_manager",
    group_name="embeddings",
    code_version=EMBEDDINGS_CODE_VERSION,
)
def document_embeddings(
    context: dg.AssetExecutionContext, factory: FactoryResource, corpus_documents: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """Unit-length embeddings of every document; only new (text, model) pairs are computed."""
    from factory.embedding import EmbeddingStore, shared_embedder

    config = factory.config
    embedder = shared_embedder(config.embedding)
    store = EmbeddingStore(factory.home.lancedb)
    total = corpus_documents.height

    def progress(done: int, _: int) -> None:
        context.log.info(f"embedded {done}/{total} documents")
        console.progress("document_embeddings", done, total, "documents")

    job = "document_embeddings"
    with lineage_step(context, factory, job, EMBEDDINGS_CODE_VERSION, ["corpus_documents"]) as step:
        frame, stats = store.embed_documents(corpus_documents, embedder, progress=progress)
        version = fingerprint(
            EMBEDDINGS_CODE_VERSION,
            embedder.fingerprint,
            frame_fingerprint(corpus_documents, ["doc_id", "split"]),
        )
        step.params = config.embedding.model_dump(mode="json", exclude={"api_key_env"})
        step.models = {"embedder": embedder.fingerprint_info()}
        step.output(job, frame, DOCUMENT_EMBEDDINGS, version)
        step.summary = f"{frame.height} vectors ({stats.embedded} new, {stats.cached} cached)"
    rate = stats.embedded / stats.seconds if stats.seconds > 0 else 0.0
    context.log.info(
        f"{stats.embedded} embedded, {stats.cached} from cache, {stats.seconds:.1f} s "
        f"({rate:.0f} docs/s) with {embedder.name}"
    )
    return dg.Output(
        frame,
        data_version=dg.DataVersion(version),
        metadata={
            **table_metadata(frame, DOCUMENT_EMBEDDINGS),
            "model": embedder.name,
            "model_fingerprint": embedder.fingerprint,
            "dimension": embedder.dimension,
            "embedded": stats.embedded,
            "from_cache": stats.cached,
            "seconds": round(stats.seconds, 2),
        },
    )
