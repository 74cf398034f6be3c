"""Students layer: `student_checkpoint`, a LoRA fine-tune on train + accepted synthetic rows."""

import json

import dagster as dg
import polars as pl

from assets.lineage_step import lineage_step
from assets.metadata import table_metadata
from assets.resources import FactoryResource
from factory.hashing import fingerprint
from factory.schemas import STUDENT_CHECKPOINT

__all__ = ["STUDENTS_CODE_VERSION", "student_checkpoint"]

STUDENTS_CODE_VERSION = "students-v1"


@dg.asset(group_name="students", code_version=STUDENTS_CODE_VERSION)
def student_checkpoint(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    corpus_documents: pl.DataFrame,
    synthetic_samples: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """LoRA fine-tune on train + synthetic rows; validation perplexity before and after."""
    from factory.training import prepare_base_model, train_lora, training_texts

    config = factory.config
    kind = config.task.kind
    inputs = ["corpus_documents", "synthetic_samples"]
    with lineage_step(
        context, factory, "student_checkpoint", STUDENTS_CODE_VERSION, inputs
    ) as step:
        source = config.student.base_model
        base = prepare_base_model(
            config.resolve(source) if source else None, factory.home / "models"
        )
        train = corpus_documents.filter(pl.col("split") == "train").sort("doc_id")
        validation = corpus_documents.filter(pl.col("split") == "validation").sort("doc_id")
        synthetic = synthetic_samples.sort("sample_id")
        train_texts = training_texts(train, kind) + training_texts(synthetic, kind)
        eval_texts = training_texts(validation.head(config.student.eval_documents), kind)
        hyper = config.student.model_dump(mode="json")
        data_version = fingerprint(
            kind, train["doc_id"].to_list(), synthetic["sample_id"].to_list(), eval_texts
        )
        run_key = fingerprint(STUDENTS_CODE_VERSION, base.fingerprint, data_version, hyper)
        out_dir = factory.home / "students" / run_key[:16]
        summary_path = out_dir / "summary.json"
        if summary_path.exists():
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            context.log.info(f"inputs unchanged: reusing the checkpoint in {out_dir}")
        else:

            def progress(done: int, total: int) -> None:
                if done == total or done % 10 == 0:
                    context.log.info(f"student: step {done}/{total}")

            result = train_lora(base, train_texts, eval_texts, config.student, out_dir, progress)
            summary = {
                "checkpoint_path": str(result.checkpoint_path),
                "checkpoint_hash": result.checkpoint_hash,
                "steps": result.steps,
                "perplexity_before": result.perplexity_before,
                "perplexity_after": result.perplexity_after,
                "hyperparameters": result.hyperparameters,
                "seconds": result.seconds,
            }
            summary_path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
        frame = pl.DataFrame(
            {
                "checkpoint_path": [summary["checkpoint_path"]],
                "checkpoint_hash": [summary["checkpoint_hash"]],
                "base_model_fingerprint": [base.fingerprint],
                "training_data_version": [data_version],
                "hyperparameters": [json.dumps(summary["hyperparameters"], sort_keys=True)],
                "train_rows": [train.height],
                "synthetic_rows": [synthetic.height],
                "steps": [summary["steps"]],
                "perplexity_before": [summary["perplexity_before"]],
                "perplexity_after": [summary["perplexity_after"]],
            },
            schema=STUDENT_CHECKPOINT.empty().schema,
        )
        version = fingerprint(run_key, summary["checkpoint_hash"])
        step.params = hyper
        step.models = {"student_base": base.fingerprint, "checkpoint": summary["checkpoint_hash"]}
        step.output("student_checkpoint", frame, STUDENT_CHECKPOINT, version)
    before, after = summary["perplexity_before"], summary["perplexity_after"]
    context.log.info(
        f"validation perplexity {before:.2f} -> {after:.2f} in {summary['steps']} steps"
    )
    return dg.Output(
        frame,
        data_version=dg.DataVersion(version),
        metadata={
            **table_metadata(frame, STUDENT_CHECKPOINT),
            "perplexity_before": round(before, 3),
            "perplexity_after": round(after, 3),
            "perplexity_change": round(after - before, 3),
            "steps": summary["steps"],
            "checkpoint": dg.MetadataValue.path(summary["checkpoint_path"]),
            "train_rows": train.height,
            "synthetic_rows": synthetic.height,
        },
    )
