"""L_n of a causal language model: its per-position loss on held-out text (private).

Public through :mod:`corpus_stats.lm`. The held-out documents are the ones the Kneser-Ney upper bound
scores (same split, same seed), so a model trained with :func:`corpus_stats.lm.train_lm` never saw them.

Conventions
-----------
``documents`` (default): each sequence is the start of one held-out document, ``[bos] x_0 .. x_T``, and
the loss of ``x_n`` is L_n: the next token given exactly the n tokens before it, and nothing hidden
before them. That is what H_n = H(x_{n+1} | x_1..x_n) with context n means, and it is how a model trained
on document-aligned sequences is used. With a ``bos`` id (the model config's ``bos_token_id``) L_0 is
measured too; without one, n starts at 1.

``stream``: windows of T + 1 tokens of the concatenated held-out stream (documents joined by their eos),
tiled from a random phase and drawn at random. Contexts cross document boundaries and start anywhere,
as the count estimators count n-grams by default, so L_n is the stationary H_n those estimate; no bos.
A stream without an eos (synthetic corpora) has nothing marking where held-out documents were joined,
so there windows stay inside one document.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats._io import atomic_write_text
from corpus_stats.stream import TokenStream

CONVENTIONS = ("documents", "stream")
#: Fewest sequences behind a point of the curve (fewer give no usable standard error).
MIN_SEQUENCES = 10


@dataclass(frozen=True, eq=False)
class LMCurve:
    """Per-position loss L_n of a language model on held-out text, in nats.

    Attributes
    ----------
    n : numpy.ndarray
        Context lengths (int64): 0 (with a bos) or 1, up to ``context``.
    loss, stderr : numpy.ndarray
        Mean loss at each n over the sequences that reach it, and its standard error (sample standard
        deviation over sequences / sqrt(count)).
    count : numpy.ndarray
        Sequences behind each point.
    model : str
        The model (name, path or class).
    convention : str
        ``"documents"`` or ``"stream"`` (see the module docstring).
    context : int
        Largest n (after clipping to the model's positions).
    n_sequences, n_tokens : int
        Sequences scored and tokens scored in all.
    device, dtype : str
    tokens_per_second : float
        Scoring speed (forward passes only).
    notes : tuple of str
        What the caller should know (clipped context, dropped positions, split).
    info : dict
        JSON-safe details (tokenizer, parameters, held-out split, batch size used).
    """

    n: np.ndarray
    loss: np.ndarray
    stderr: np.ndarray
    count: np.ndarray
    model: str
    convention: str
    context: int
    n_sequences: int
    n_tokens: int
    device: str
    dtype: str
    tokens_per_second: float
    notes: tuple = ()
    info: dict = field(default_factory=dict)

    def to_external(self):
        """The curve as an :class:`~corpus_stats.entropy.external.ExternalCurve` (``entropy_curve(external=)``)."""
        from corpus_stats.entropy.external import ExternalCurve

        return ExternalCurve(self.n.copy(), self.loss.copy(), self.stderr.copy(), f"lm:{self.model}")

    def to_csv(self) -> str:
        """``n, loss, stderr`` (nats) with ``#`` comment lines naming the model and conventions."""
        out = io.StringIO()
        out.write(f"# L_n of {self.model.replace(chr(10), ' ')}: per-position loss in nats on held-out text\n")
        out.write(
            f"# convention {self.convention}, context {self.context}, {self.n_sequences} sequences, "
            f"device {self.device}, dtype {self.dtype}\n"
        )
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["n", "loss", "stderr"])
        for n, loss, se in zip(self.n, self.loss, self.stderr):
            writer.writerow([int(n), repr(float(loss)), "" if not math.isfinite(se) else repr(float(se))])
        return out.getvalue()

    def write_csv(self, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
        """Write :meth:`to_csv` to ``path`` atomically (the file ``--entropy-curve`` reads)."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} already exists; choose another path or overwrite.")
        atomic_write_text(path, self.to_csv())  # creates missing parents
        return path

    def summary(self) -> dict:
        """JSON-safe description (stored in ``report.json`` options by ``measure --lm``)."""
        return {
            "model": self.model,
            "convention": self.convention,
            "context": int(self.context),
            "n_sequences": int(self.n_sequences),
            "n_tokens": int(self.n_tokens),
            "device": self.device,
            "dtype": self.dtype,
            "tokens_per_second": float(self.tokens_per_second),
            "notes": list(self.notes),
            **self.info,
        }


def heldout_split(stream: TokenStream, heldout_fraction: float, seed: int):
    """(train, held-out) token streams: the Kneser-Ney bound's split (disjoint, deduplicated documents)."""
    from corpus_stats.entropy.heldout import heldout_documents

    if not isinstance(heldout_fraction, (int, float)) or not 0 < heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must lie strictly between 0 and 1; got {heldout_fraction!r}.")
    train, held, notes = heldout_documents(stream, heldout_fraction, 2**62, seed)
    as_stream = lambda part: TokenStream(part[0], part[1], stream.vocab_size, stream.eos_id, stream.provenance)
    return as_stream(train), as_stream(held), notes


def build_sequences(
    held: TokenStream, context: int, convention: str, bos_id: int | None, max_sequences: int, seed: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Windows to score: ``(windows, lengths, first_n)``.

    ``windows`` is (S, context + 1) int64 of the scored tokens x_0..x_context (padded with 0),
    ``lengths`` how many are real, ``first_n`` the n of the first scored target (0 with a bos, else 1).
    """
    rng = np.random.default_rng(seed)
    width = context + 1
    tokens = np.asarray(held.tokens, dtype=np.int64)
    if convention == "documents":
        starts = held.doc_offsets[:-1]
        lengths = np.minimum(np.diff(held.doc_offsets), width)
        keep = lengths >= (1 if bos_id is not None else 2)  # at least one scored target
        starts, lengths = starts[keep], lengths[keep]
        if starts.size > max_sequences:
            pick = np.sort(rng.choice(starts.size, max_sequences, replace=False))
            starts, lengths = starts[pick], lengths[pick]
        first_n = 0 if bos_id is not None else 1
    else:
        phase = int(rng.integers(0, width)) if tokens.size >= 2 * width else 0
        starts = np.arange(phase, tokens.size - width + 1, width, dtype=np.int64)
        if held.eos_id is None:  # no token marks where documents were joined: stay inside one
            doc = np.searchsorted(held.doc_offsets, starts, side="right")
            starts = starts[starts + width <= held.doc_offsets[doc]]
        if starts.size > max_sequences:
            starts = np.sort(rng.choice(starts, max_sequences, replace=False))
        lengths = np.full(starts.size, width, dtype=np.int64)
        first_n = 1
    windows = np.zeros((starts.size, width), dtype=np.int64)
    for i, (s, ln) in enumerate(zip(starts, lengths)):
        windows[i, :ln] = tokens[s : s + ln]
    return windows, lengths, first_n


def _oom(exc: BaseException) -> bool:
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", ())
    return isinstance(exc, oom) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def score_windows(
    loaded, windows: np.ndarray, lengths: np.ndarray, first_n: int, *, batch_size: int, progress: bool = False
) -> tuple[np.ndarray, int, float]:
    """Per-target loss (S, context + 1 - first_n) in nats (NaN past a sequence's end).

    Returns the losses, the batch size that fitted and the tokens per second. On out-of-memory the
    batch is halved and retried; at batch size 1 the error says what to change.
    """
    import torch

    module, dev = loaded.module, loaded.device
    n_seq, width = windows.shape
    bos = loaded.bos_id if first_n == 0 else None
    out = np.full((n_seq, width - first_n), np.nan)
    bar = _bar(n_seq * (width - first_n), f"L_n of {loaded.name}", progress)
    scored, start, i = 0, time.perf_counter(), 0
    with torch.inference_mode():
        while i < n_seq:
            b = min(batch_size, n_seq - i)
            w, ln = windows[i : i + b], lengths[i : i + b]
            if bos is not None:
                inputs = np.concatenate([np.full((b, 1), bos, np.int64), w[:, :-1]], axis=1)
                targets, n_targets = w, ln
            else:
                inputs, targets, n_targets = w[:, :-1], w[:, 1:], ln - 1
            length = int(n_targets.max())
            inputs, targets = inputs[:, :length], targets[:, :length]
            mask = np.arange(length)[None, :] < n_targets[:, None]
            try:
                ids = torch.from_numpy(inputs).to(dev)
                att = torch.from_numpy(mask.astype(np.int64)).to(dev)
                res = module(input_ids=ids, attention_mask=att)
                logits = res.logits if hasattr(res, "logits") else res
                logp = torch.log_softmax(logits.float() if logits.dtype != torch.float64 else logits, dim=-1)
                nll = -logp.gather(-1, torch.from_numpy(targets).to(dev)[..., None])[..., 0]
                nll = nll.double().cpu().numpy()
            except Exception as exc:  # noqa: BLE001 - only out-of-memory is handled; the rest re-raised
                if not _oom(exc):
                    raise
                if dev == "cuda":
                    torch.cuda.empty_cache()
                if batch_size == 1:
                    raise MemoryError(
                        f"out of {dev} memory scoring {loaded.name} even one sequence at a time at context "
                        f"{width - 1}; lower --context, use --dtype float16, or --device cpu."
                    ) from None
                batch_size = max(1, batch_size // 2)
                continue
            out[i : i + b, :length] = np.where(mask, nll, np.nan)
            i += b
            scored += int(mask.sum())
            bar.update(int(mask.sum()))
    bar.close()
    seconds = time.perf_counter() - start
    return out, batch_size, scored / seconds if seconds > 0 else float("nan")


class _NoBar:
    def update(self, _):
        pass

    def close(self):
        pass


def _bar(total: int, label: str, enabled: bool):
    """A tqdm bar in tokens (with tokens/s) on stderr, or nothing."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="tok", unit_scale=True, file=sys.stderr, leave=False)


def lm_curve(
    corpus: Any,
    model: Any,
    *,
    context: int = 256,
    convention: str = "documents",
    heldout_fraction: float = 0.1,
    max_sequences: int = 1000,
    batch_size: int = 8,
    device: str = "auto",
    dtype: str = "auto",
    bos: bool = True,
    seed: int = 0,
    output: str | os.PathLike | None = None,
    progress: bool = False,
    **read_options: Any,
) -> LMCurve:
    """Per-position loss L_n of a causal language model on held-out documents of a corpus.

    Parameters
    ----------
    corpus : TokenStream, SyntheticCorpus, path(s) or hf: name
        Text is tokenized with the model's own tokenizer (its ``tokenizer.json``); a token stream must
        already hold the model's ids.
    model : str, path or torch.nn.Module
        See :func:`corpus_stats.lm.load_model`.
    context : int, default 256
        Largest context length n; clipped (and said in ``notes``) to the model's positions.
    convention : {"documents", "stream"}, default "documents"
        Sequences from document starts, or random windows of the held-out stream (module docstring).
    heldout_fraction : float, default 0.1
        Share of documents held out (the Kneser-Ney bound's split with the same ``seed``).
    max_sequences : int, default 1000
        Most sequences scored (a random subset beyond that).
    batch_size : int, default 8
        Sequences per forward pass (halved on out-of-memory).
    device : {"auto", "cpu", "cuda", "mps"}, default "auto"
    dtype : {"auto", "float32", "float16", "bfloat16"}, default "auto"
        ``auto``: half precision on GPUs, float32 on CPU; log-softmax is taken in float32.
    bos : bool, default True
        Put the model's ``bos_token_id`` (when it has one) before document-start sequences, giving L_0.
    seed : int, default 0
        Seeds the held-out split and the choice of sequences.
    output : path, optional
        Also write the ``n, loss, stderr`` CSV that ``--entropy-curve`` reads.
    progress : bool, default False
        A progress bar (tokens, tokens/s) on stderr.
    **read_options
        Passed to :func:`corpus_stats.tokenize` when ``corpus`` is text.

    Returns
    -------
    LMCurve

    Raises
    ------
    ValueError
        Unknown model (offline: how to fetch it), non-causal model, token ids outside the model's
        vocabulary, fewer than ``MIN_SEQUENCES`` held-out sequences.
    MemoryError
        Out of memory even at batch size 1.

    Notes
    -----
    ``L_n = mean_s loss_s(n)`` over the sequences s that reach position n, with standard error
    ``std_s / sqrt(count)``; sequences are distinct documents (or disjoint windows), so they are close
    to independent. A model's cross-entropy is an upper bound of the true H_n (Cover & Thomas, ch. 2).

    Examples
    --------
    >>> from corpus_stats import synthetic
    >>> from corpus_stats.lm import MarkovLM, lm_curve
    >>> corpus = synthetic.markov_chain(20_000, vocab_size=4, order=1, n_documents=400, seed=0)
    >>> curve = lm_curve(corpus, MarkovLM(corpus), context=4)
    >>> curve.n.tolist()
    [0, 1, 2, 3, 4]
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}; got {convention!r}.")
    context = check_int("context", context, 1)
    max_sequences = check_int("max_sequences", max_sequences, MIN_SEQUENCES)
    batch_size = check_int("batch_size", batch_size, 1)
    from corpus_stats.lm.models import load_model

    loaded = load_model(model, device=device, dtype=dtype)
    stream = _stream_of(corpus, loaded, progress=progress, **read_options)
    if stream.vocab_size > loaded.vocab_size:
        used = int(np.asarray(stream.tokens).max()) if stream.n_tokens else 0
        if used >= loaded.vocab_size:
            raise ValueError(
                f"the tokens use ids up to {used:,} but {loaded.name} has only {loaded.vocab_size:,} outputs; "
                "tokenize the corpus with the model's own tokenizer."
            )
    notes: list[str] = []
    use_bos = bos and convention == "documents" and loaded.bos_id is not None
    bos_id = loaded.bos_id if use_bos else None
    limit = loaded.max_positions
    input_length = context + 1 if use_bos else context  # [bos] x_0..x_{T-1}, or x_0..x_{T-1}
    if limit is not None and input_length > limit:
        clipped = limit - 1 if use_bos else limit
        notes.append(f"context {context} clipped to {clipped}: {loaded.name} has {limit} positions.")
        context = clipped
    _, held, split_notes = heldout_split(stream, heldout_fraction, seed)
    notes += split_notes
    windows, lengths, first_n = build_sequences(held, context, convention, bos_id, max_sequences, seed)
    if windows.shape[0] < MIN_SEQUENCES:
        raise ValueError(
            f"only {windows.shape[0]} held-out sequences to score (need at least {MIN_SEQUENCES} for a "
            f"standard error; {held.n_documents} held-out documents, {held.n_tokens:,} tokens); raise "
            "heldout_fraction, use the stream convention, lower the context, or use a bigger corpus."
        )
    losses, used_batch, speed = score_windows(
        loaded, windows, lengths, first_n, batch_size=batch_size, progress=progress
    )
    count = np.sum(np.isfinite(losses), axis=0)
    reach = count >= MIN_SEQUENCES
    if not reach.all():
        last = int(np.flatnonzero(reach)[-1]) if reach.any() else -1
        notes.append(
            f"n > {last + first_n} dropped: fewer than {MIN_SEQUENCES} held-out sequences are that long "
            "(documents shorter than the context)."
        )
        losses, count = losses[:, : last + 1], count[: last + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(losses, axis=0)
        se = np.nanstd(losses, axis=0, ddof=1) / np.sqrt(count)
    if used_batch < batch_size:
        notes.append(f"out of memory at batch size {batch_size}: scored with batch size {used_batch}.")
    curve = LMCurve(
        n=np.arange(first_n, first_n + mean.size, dtype=np.int64),
        loss=mean,
        stderr=se,
        count=count.astype(np.int64),
        model=loaded.name,
        convention=convention,
        context=int(first_n + mean.size - 1),
        n_sequences=int(windows.shape[0]),
        n_tokens=int(count.sum()),
        device=loaded.device,
        dtype=loaded.dtype,
        tokens_per_second=float(speed),
        notes=tuple(notes),
        info={
            "n_parameters": loaded.n_parameters,
            "tokenizer": loaded.tokenizer,
            "bos_id": bos_id,
            "heldout_fraction": float(heldout_fraction),
            "heldout_documents": int(held.n_documents),
            "batch_size": int(used_batch),
            "seed": int(seed),
        },
    )
    if output is not None:
        curve.write_csv(output)
    return curve


def _stream_of(corpus: Any, loaded, *, progress: bool, **read_options) -> TokenStream:
    """The corpus as a token stream in the model's ids."""
    if isinstance(corpus, TokenStream):
        return corpus
    if hasattr(corpus, "stream") and isinstance(corpus.stream, TokenStream):
        return corpus.stream
    if loaded.tokenizer is None:
        raise ValueError(
            f"{loaded.name} has no tokenizer of its own; pass the corpus as a TokenStream of its token ids."
        )
    from corpus_stats.text.tokenization import tokenize

    inputs = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
    read_options.setdefault("tokenizer", loaded.tokenizer)
    return tokenize(inputs, progress=progress, **read_options)
