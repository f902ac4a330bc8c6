"""``framewatch train``: fine-tune the base model into a published checkpoint.

Plain steps in one ``main``, like transformers' example scripts: read config,
load data, build model, train with early stopping, tune thresholds on dev,
write the checkpoint into a staging directory, publish it atomically.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np
import torch

from framewatch.base_model import resolve_base_model
from framewatch.checkpoint import CheckpointMetadata, ReferenceOutputs, write_checkpoint
from framewatch.config import FramewatchConfig, load_config
from framewatch.data import Example, multi_hot, read_examples, to_hf_dataset
from framewatch.drift import drift_reference
from framewatch.metrics import classification_metrics, macro_f1_score
from framewatch.modeling import build_classifier
from framewatch.predictor import Predictor
from framewatch.provenance import file_hashes, git_commit, library_versions, utc_now
from framewatch.thresholds import decide, threshold_row, tune_thresholds
from framewatch.training import distributed
from framewatch.training.linear_probe import fit_linear_probe, sentence_vectors
from framewatch.training.loss import WeightedBCELoss, positive_weights
from framewatch.training.model_card import render_model_card
from framewatch.training.neighbours import fit_neighbours

__all__ = ["add_arguments", "main", "run_training", "work_dir_for"]

logger = logging.getLogger("framewatch.train")


def work_dir_for(output: Path) -> Path:
    """Trainer's intermediate checkpoints live beside the output, so ``--resume`` finds them."""
    return output.with_name(output.name + ".work")


def _latest_trainer_checkpoint(work_dir: Path) -> Path | None:
    """The newest *complete* Trainer checkpoint: a process killed while saving leaves a partial one behind.

    The Trainer writes ``trainer_state.json`` last, so a directory without it is skipped.
    """
    if not work_dir.is_dir():
        return None
    candidates = [p for p in work_dir.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    for candidate in sorted(candidates, key=lambda p: int(p.name.split("-")[-1]), reverse=True):
        if (candidate / "trainer_state.json").is_file():
            return candidate
        logger.warning("--resume: skipping incomplete checkpoint %s", candidate)
    return None


def _score_examples(predictor: Predictor, examples: list[Example]) -> np.ndarray:
    return predictor.score([e.text for e in examples])


def _compute_metrics_fn(label_ids: list[str]):
    def compute_metrics(eval_prediction) -> dict[str, float]:
        logits, targets = eval_prediction.predictions, eval_prediction.label_ids
        scores = 1 / (1 + np.exp(-logits))
        return {"macro_f1": macro_f1_score(targets.astype(int), decide(scores, 0.5))}

    return compute_metrics


def _fine_tune(
    model, tokenizer, config: FramewatchConfig, train_examples, train_targets, dev_examples, work_dir: Path, resume_from
):
    """Fine-tune the whole model with transformers' Trainer (early stopping on dev macro-F1); returns the best model."""
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments

    label_ids = config.label_ids
    t = config.training

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, max_length=config.model.max_length)

    train_ds = to_hf_dataset(train_examples, label_ids).map(tokenize, batched=True, remove_columns=["text"])
    dev_ds = to_hf_dataset(dev_examples, label_ids).map(tokenize, batched=True, remove_columns=["text"])
    pos_weight = positive_weights(train_targets, t.pos_weight_cap) if t.pos_weight == "auto" else None

    strategy = "steps" if t.eval_every_steps else "epoch"
    args = TrainingArguments(
        output_dir=str(work_dir),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps or -1,
        learning_rate=t.learning_rate,
        per_device_train_batch_size=distributed.per_process(t.batch_size),
        per_device_eval_batch_size=t.eval_batch_size,
        weight_decay=t.weight_decay,
        warmup_steps=t.warmup_ratio,
        eval_strategy=strategy,
        save_strategy=strategy,
        eval_steps=t.eval_every_steps,
        save_steps=t.eval_every_steps,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        logging_steps=t.logging_steps,
        seed=t.seed,
        data_seed=t.seed,
        bf16=t.bf16,
        report_to="none",
        disable_tqdm=not sys.stderr.isatty(),
        train_sampling_strategy="group_by_length" if t.group_by_length else "random",
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        use_cpu=not torch.cuda.is_available(),  # without it, processes launched by torchrun on CPUs would not run DDP
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=dev_ds,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_loss_func=WeightedBCELoss(pos_weight),
        compute_metrics=_compute_metrics_fn(label_ids),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience)],
    )
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    model = trainer.model
    return model


def run_training(config: FramewatchConfig, output: Path, *, resume: bool = False, keep_work_dir: bool = False) -> Path:
    """Train, tune thresholds, and publish a checkpoint at ``output``; returns its path.

    Under torchrun every process trains (:mod:`framewatch.training.distributed`);
    rank 0 alone tunes thresholds, evaluates and writes the checkpoint.
    """
    from transformers import AutoTokenizer, set_seed

    distributed.start()
    label_ids = config.label_ids
    set_seed(config.training.seed)
    base = resolve_base_model(config.model.base)
    corpus_dir = config.corpora.dir
    train_examples = read_examples(config.data.train, label_ids, corpus_dir=corpus_dir)
    dev_examples = read_examples(config.data.dev, label_ids, corpus_dir=corpus_dir)
    test_examples = read_examples(config.data.test, label_ids, corpus_dir=corpus_dir) if config.data.test else None
    logger.info(
        "data: %d train, %d dev sentences; base model %s", len(train_examples), len(dev_examples), base.location
    )

    tokenizer = AutoTokenizer.from_pretrained(base.location)
    model = build_classifier(base.location, label_ids, config.model.pooling, normalize=config.model.normalize)
    train_targets = multi_hot([e.labels for e in train_examples], label_ids)
    dev_targets = multi_hot([e.labels for e in dev_examples], label_ids)

    work_dir = work_dir_for(output)
    resume_from = _latest_trainer_checkpoint(work_dir) if resume else None
    if resume and resume_from is None:
        logger.info("--resume: no interrupted run in %s, starting fresh", work_dir)
    distributed.barrier()  # every process has looked for a checkpoint to resume before rank 0 cleans up
    if resume_from is None and work_dir.exists() and distributed.is_main():
        shutil.rmtree(work_dir)
    distributed.barrier()
    if resume_from is not None:
        logger.info("resuming from %s (step %s)", resume_from, resume_from.name.split("-")[-1])
    t = config.training
    if t.linear_probe_c and resume_from is None:
        max_length = config.model.max_length
        train_vectors = sentence_vectors(model, tokenizer, [e.text for e in train_examples], max_length=max_length)
        fit_linear_probe(model, train_vectors, train_targets, c=t.linear_probe_c)
        if config.model.neighbours:
            fit_neighbours(
                model,
                train_vectors,
                train_targets,
                sentence_vectors(model, tokenizer, [e.text for e in dev_examples], max_length=max_length),
                dev_targets,
                k=config.model.neighbours,
                weight=config.model.neighbour_weight,
            )
    if t.fine_tune:
        model = _fine_tune(model, tokenizer, config, train_examples, train_targets, dev_examples, work_dir, resume_from)
    if not distributed.is_main():
        distributed.stop()
        return output  # rank 0 tunes, evaluates and writes the one checkpoint
    distributed.claim_freed_cores()

    provisional = CheckpointMetadata(
        checkpoint_id=f"{output.name}-{utc_now().replace(':', '').replace('-', '')[:15]}-{uuid.uuid4().hex[:6]}",
        labels=config.labels,
        thresholds={label: 0.5 for label in label_ids},
        max_length=config.model.max_length,
        window_stride=config.model.window_stride,
        base_model=base.name,
        base_model_sha256=base.weights_sha256,
        created=utc_now(),
    )
    predictor = Predictor(model, tokenizer, provisional, device=model.device, batch_size=t.eval_batch_size)
    dev_scores = _score_examples(predictor, dev_examples)
    thresholds = tune_thresholds(dev_targets, dev_scores, label_ids, config.thresholds)
    row = threshold_row(thresholds, label_ids)
    dev_decided = decide(dev_scores, row)
    dev_metrics = classification_metrics(dev_targets, dev_decided, dev_scores, label_ids)
    test_metrics = None
    if test_examples:
        test_scores = _score_examples(predictor, test_examples)
        test_targets = multi_hot([e.labels for e in test_examples], label_ids)
        test_metrics = classification_metrics(test_targets, decide(test_scores, row), test_scores, label_ids)

    data_files = {"train": config.data.train, "dev": config.data.dev, "test": config.data.test or []}
    metadata = provisional.model_copy(
        update={
            "thresholds": thresholds,
            "data_sha256": file_hashes(p for paths in data_files.values() for p in paths),
            "dev_metrics": dev_metrics,
            "test_metrics": test_metrics,
            "seed": t.seed,
            "config": config.model_dump(mode="json"),
            "versions": library_versions(),
            "git_commit": git_commit(),
            "created": utc_now(),
            "drift_reference": drift_reference(dev_scores, dev_decided, label_ids),
        }
    )
    reference = dev_examples[: t.reference_samples]
    reference_outputs = ReferenceOutputs(
        texts=[e.text for e in reference], scores=dev_scores[: len(reference)].round(6).tolist()
    )

    card = render_model_card(
        metadata, test_metrics=test_metrics, data_paths={k: [str(p) for p in v] for k, v in data_files.items() if v}
    )
    write_checkpoint(
        output, model=model, tokenizer=tokenizer, metadata=metadata, reference=reference_outputs, model_card=card
    )
    if not keep_work_dir:
        shutil.rmtree(work_dir, ignore_errors=True)
    distributed.stop()
    logger.info(
        "dev macro-F1 %.3f%s; thresholds %s",
        dev_metrics["macro"]["f1"],
        f", test macro-F1 {test_metrics['macro']['f1']:.3f}" if test_metrics else "",
        thresholds,
    )
    return output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, default=None, help="Checkpoint directory (default: serving.checkpoint).")
    parser.add_argument("--resume", action="store_true", help="Continue an interrupted run from its last checkpoint.")
    parser.add_argument("--keep-work-dir", action="store_true", help="Keep intermediate Trainer checkpoints.")


def main(argv: list[str] | None = None) -> int:
    """Entry point used by ``framewatch train`` and by tests."""
    from framewatch.cli import add_config_arguments, configure_logging

    parser = argparse.ArgumentParser(prog="framewatch train", description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    configure_logging()
    config = load_config(args.config, args.set)
    output = args.output or config.serving.checkpoint
    path = run_training(config, output, resume=args.resume, keep_work_dir=args.keep_work_dir)
    if distributed.is_main():
        print(f"checkpoint written to {path}")
    return 0
