"""Train a small GPT-2 on a corpus and measure L_n at nested token budgets P (private).

Public through :mod:`corpus_stats.lm`. This is the paper's route to γ: the per-position loss of a
transformer trained on the corpus. One run with a constant learning rate (after a short warm-up) is
checkpointed at P_max / 2^j tokens, so every checkpoint is the same model seen earlier: L_n(P) for the
collapse figure, and the largest P gives the curve γ is fitted on.
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats._io import atomic_write_text
from corpus_stats.lm.evaluate import LMCurve, _bar, _stream_of, heldout_split, lm_curve
from corpus_stats.stream import TokenStream

#: Linear warm-up length: this share of the steps, at most WARMUP_MAX_STEPS.
WARMUP_SHARE, WARMUP_MAX_STEPS = 0.05, 200
#: Share of the training windows that start at a document start (after its bos); the rest start anywhere.
DOC_START_SHARE = 0.5


@dataclass(frozen=True, eq=False)
class TrainedLM:
    """A GPT-2 trained on a corpus and its L_n at each checkpoint.

    Attributes
    ----------
    size : str
        Preset name (:data:`corpus_stats.lm.PRESETS`).
    n_parameters : int
    budgets : numpy.ndarray
        Training tokens P of each checkpoint (increasing; int64).
    curves : tuple of LMCurve
        L_n on the held-out documents at each budget.
    train_loss : numpy.ndarray
        Mean training loss over the steps since the previous checkpoint.
    checkpoints : tuple of str
        Directories of the saved checkpoints (empty when no ``out`` was given).
    tokens_per_second : float
        Training speed (forward + backward + update).
    device : str
    notes : tuple of str
    info : dict
        JSON-safe settings (context, batch size, learning rate, seed, epochs).
    """

    size: str
    n_parameters: int
    budgets: np.ndarray
    curves: tuple
    train_loss: np.ndarray
    checkpoints: tuple
    tokens_per_second: float
    device: str
    notes: tuple = ()
    info: dict = field(default_factory=dict)

    @property
    def curve(self) -> LMCurve:
        """L_n at the largest budget (the curve γ is fitted on)."""
        return self.curves[-1]

    def collapse_csv(self) -> str:
        """The L_n(P) table ``corpus-stats plot --collapse`` reads: ``n, tokens, loss, stderr`` (n >= 1)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["n", "tokens", "loss", "stderr"])
        for budget, curve in zip(self.budgets, self.curves):
            for n, loss, se in zip(curve.n, curve.loss, curve.stderr):
                if n >= 1 and math.isfinite(loss):
                    writer.writerow([int(n), int(budget), repr(float(loss)), repr(float(se))])
        return out.getvalue()

    def write_collapse_table(self, path: str | os.PathLike) -> Path:
        """Write :meth:`collapse_csv` atomically."""
        path = Path(path)
        atomic_write_text(path, self.collapse_csv())  # creates missing parents
        return path

    def summary(self) -> dict:
        """JSON-safe description."""
        return {
            "size": self.size,
            "n_parameters": int(self.n_parameters),
            "budgets": [int(b) for b in self.budgets],
            "train_loss": [float(x) for x in self.train_loss],
            "tokens_per_second": float(self.tokens_per_second),
            "device": self.device,
            "checkpoints": list(self.checkpoints),
            "notes": list(self.notes),
            **self.info,
        }


def _packed(stream: TokenStream, bos: int) -> tuple[np.ndarray, np.ndarray]:
    """Training tokens with a bos before every document (the eos of the previous one when there is
    one) and the positions of those bos tokens."""
    tokens = np.asarray(stream.tokens, dtype=np.int64)
    starts = stream.doc_offsets[:-1][np.diff(stream.doc_offsets) > 0]
    if stream.eos_id is not None:  # documents already end with eos = bos: one more before the first
        packed = np.concatenate([[bos], tokens])
        return packed, starts  # bos of document d sits at its start offset (previous eos, or the new first)
    packed = np.insert(tokens, starts, bos)
    return packed, starts + np.arange(starts.size)


def nested_budgets(tokens: int, n_checkpoints: int, tokens_per_step: int) -> np.ndarray:
    """Steps of the checkpoints at about tokens / 2^j, j = n_checkpoints - 1 .. 0 (distinct, >= 1)."""
    steps = [max(1, math.ceil(tokens / 2**j / tokens_per_step)) for j in range(n_checkpoints - 1, -1, -1)]
    return np.unique(np.asarray(steps, dtype=np.int64))


def train_lm(
    corpus: Any,
    *,
    size: str = "tiny",
    tokens: int = 2**20,
    n_checkpoints: int = 5,
    context: int = 128,
    batch_size: int = 16,
    lr: float | None = None,
    heldout_fraction: float = 0.1,
    max_sequences: int = 1000,
    convention: str = "documents",
    device: str = "auto",
    seed: int = 0,
    out: str | os.PathLike | None = None,
    progress: bool = False,
    **read_options: Any,
) -> TrainedLM:
    """Train a GPT-2 of a preset size on a corpus's training documents; L_n at nested budgets.

    Parameters
    ----------
    corpus : TokenStream, SyntheticCorpus, path(s) or hf: name
        Text is tokenized with ``tokenizer`` (a ``read_options`` key; default ``bpe:8192``).
    size : {"tiny", "small", "base"}, default "tiny"
        Layers/heads/width of :data:`corpus_stats.lm.PRESETS`; parameters in ``n_parameters``.
    tokens : int, default 2**20
        Largest training budget P (tokens predicted); rounded up to whole steps.
    n_checkpoints : int, default 5
        Checkpoints at P / 2^j, j = n_checkpoints - 1 .. 0.
    context : int, default 128
        Training and evaluation context (the model has ``context + 1`` positions: bos + context).
    batch_size : int, default 16
        Sequences per step.
    lr : float, optional
        AdamW learning rate (constant after a linear warm-up); default the preset's.
    heldout_fraction, max_sequences, convention
        As in :func:`corpus_stats.lm.lm_curve` (the held-out documents are never trained on).
    device : {"auto", "cpu", "cuda", "mps"}, default "auto"
        ``auto`` uses a GPU when present (bfloat16 autocast on CUDA), else the CPU.
    seed : int, default 0
        Seeds initialisation, batch order and the held-out split: a rerun on the same device gives the
        same model.
    out : path, optional
        Save each checkpoint (``checkpoints/P<tokens>/``, ``save_pretrained``), the L_n(P) table
        (``collapse.csv``) and the largest-P curve (``lm_curve.csv``) here.
    progress : bool, default False
        Progress bars (tokens, tokens/s) on stderr.

    Returns
    -------
    TrainedLM

    Notes
    -----
    Windows of ``context + 1`` tokens are drawn from the training documents packed with a bos before
    each (the corpus's eos, or a new id for streams without one): half start at a document start, half
    anywhere, so the model learns both conventions. Each budget counts predicted tokens; budgets beyond
    the training tokens repeat them (epochs > 1, said in ``notes``).
    """
    import torch

    from corpus_stats.lm.models import PRESETS, gpt_config, quiet_transformers, resolve_device

    if size not in PRESETS:
        raise ValueError(f"model size must be one of {', '.join(PRESETS)}; got {size!r}.")
    tokens = check_int("tokens", tokens, 1)
    n_checkpoints = check_int("n_checkpoints", n_checkpoints, 1)
    context = check_int("context", context, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    lr = float(PRESETS[size]["lr"] if lr is None else lr)
    dev = resolve_device(device)
    read_options.setdefault("tokenizer", "bpe:8192")
    stream = _stream_of(corpus, _TextOnly(), progress=progress, **read_options)
    train, held, notes = heldout_split(stream, heldout_fraction, seed)
    bos = stream.eos_id if stream.eos_id is not None else stream.vocab_size
    vocab = max(stream.vocab_size, bos + 1)
    packed, doc_starts = _packed(train, bos)
    width = context + 1
    if packed.size < width + 1:
        raise ValueError(
            f"the training documents hold {train.n_tokens:,} tokens, fewer than one window of context "
            f"{context} + 2; lower the context or use a bigger corpus."
        )
    tokens_per_step = batch_size * width
    steps_at = nested_budgets(tokens, n_checkpoints, tokens_per_step)
    total_steps = int(steps_at[-1])
    epochs = total_steps * tokens_per_step / max(train.n_tokens, 1)
    if epochs > 1:
        notes.append(f"the largest budget repeats the {train.n_tokens:,} training tokens {epochs:.1f} times.")

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    config = gpt_config(size, vocab, width, bos)
    from transformers import GPT2LMHeadModel

    model = GPT2LMHeadModel(config).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    warmup = max(1, min(WARMUP_MAX_STEPS, int(WARMUP_SHARE * total_steps)))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    doc_ok = doc_starts[doc_starts <= packed.size - width - 1]
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if dev == "cuda" else _Null()
    bar = _bar(total_steps * tokens_per_step, f"train {size} GPT-2", progress)
    budgets, curves, losses, saved = [], [], [], []
    step, running, seconds = 0, [], 0.0
    for target in steps_at:
        model.train()
        start = time.perf_counter()
        while step < target:
            at_doc = rng.random(batch_size) < DOC_START_SHARE
            anywhere = rng.integers(0, packed.size - width, batch_size)
            picks = doc_ok[rng.integers(0, doc_ok.size, batch_size)] if doc_ok.size else anywhere
            offs = np.where(at_doc & (doc_ok.size > 0), picks, anywhere)
            batch = torch.from_numpy(np.stack([packed[o : o + width + 1] for o in offs])).to(dev)
            with autocast:
                logits = model(input_ids=batch[:, :-1]).logits
            loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, vocab), batch[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            running.append(loss.item())
            step += 1
            bar.update(tokens_per_step)
        seconds += time.perf_counter() - start
        budget = int(target) * tokens_per_step
        curve = lm_curve(
            stream,
            model,
            context=context,
            convention=convention,
            heldout_fraction=heldout_fraction,
            max_sequences=max_sequences,
            batch_size=batch_size,
            device=dev,
            dtype="float32",  # evaluation must not cast the weights being trained
            seed=seed,
        )
        budgets.append(budget)
        curves.append(curve)
        losses.append(float(np.mean(running)))
        running = []
        if out is not None:
            path = Path(out) / "checkpoints" / f"P{budget}"
            with quiet_transformers():
                model.save_pretrained(path)
            saved.append(str(path))
    bar.close()
    result = TrainedLM(
        size=size,
        n_parameters=n_params,
        budgets=np.asarray(budgets, dtype=np.int64),
        curves=tuple(curves),
        train_loss=np.asarray(losses),
        checkpoints=tuple(saved),
        tokens_per_second=total_steps * tokens_per_step / seconds if seconds > 0 else float("nan"),
        device=dev,
        notes=tuple(notes),
        info={
            "context": context,
            "batch_size": batch_size,
            "lr": lr,
            "warmup_steps": warmup,
            "steps": total_steps,
            "seed": int(seed),
            "epochs": float(epochs),
            "vocab_size": int(vocab),
            "bos_id": int(bos),
            "train_tokens": int(train.n_tokens),
            "heldout_documents": int(held.n_documents),
        },
    )
    if out is not None:
        result.write_collapse_table(Path(out) / "collapse.csv")
        result.curve.write_csv(Path(out) / "lm_curve.csv")
    return result


class _TextOnly:
    """Stands in for a loaded model when a corpus is tokenized for training (the tokenizer is the user's)."""

    tokenizer = "bpe:8192"
    name = "the model to train"


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
