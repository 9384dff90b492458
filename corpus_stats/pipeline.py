"""`measure`: corpus -> tokens (cached) -> C(t) -> H_n -> prediction, in one call.

This is the glue behind ``corpus-stats measure`` and :func:`corpus_stats.measure`. It computes nothing
itself: it calls the tokenizer, :func:`~corpus_stats.correlations.curve.correlation_curve`,
:func:`~corpus_stats.entropy.curve.entropy_curve` and ``scaling.predict``, and records what it did (provenance,
options, seeds, timings) in a :class:`~corpus_stats.report.measurement.Measurement`.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from corpus_stats._io import json_safe
from corpus_stats._random import STREAMS, check_seed
from corpus_stats.report.measurement import Measurement
from corpus_stats.report.summary import run_prediction
from corpus_stats.shards import DEFAULT_SHARDS, Shards
from corpus_stats.stream import TokenStream, saved_stream_dir


def measure(
    inputs: Any,
    tokenizer: str = "bpe:8192",
    *,
    lags: Sequence[int] | None = None,
    n_max: int = 32,
    within_documents: bool = False,
    n_shards: int = DEFAULT_SHARDS,
    seed: int = 0,
    snr_threshold: float | None = None,
    external: Any = None,
    lm: Any = None,
    lm_options: dict | None = None,
    predict: bool = True,
    progress: bool = False,
    memory_limit: str | int | None = None,
    scheduler: Any = None,
    on_stream: Callable[[TokenStream], None] | None = None,
    **read_options: Any,
) -> Measurement:
    """Measure C(t) and H_n of a corpus and predict its data-scaling exponent.

    Parameters
    ----------
    inputs : str, path, list of them, TokenStream or SyntheticCorpus
        Text files, directories, JSONL/parquet files or ``hf:NAME`` datasets (see
        :func:`corpus_stats.read_corpus`); an already tokenized :class:`TokenStream`, a directory
        holding a saved one (``TokenStream.save``, ``corpus-stats tokenize -o``, ``corpus-stats synth
        --format stream``; memory-mapped, not re-tokenized) or a :mod:`corpus_stats.synthetic` corpus is
        measured as it is.
    tokenizer : str, default "bpe:8192"
        Tokenizer spec (``bpe:V``, a ``tokenizer.json`` path, a pretrained name, ``bytes``, ``chars``);
        ignored for token streams.
    lags : sequence of int, optional
        Lags of C(t); default :func:`corpus_stats.correlations.curve.default_lags`.
    n_max : int, default 32
        Largest context length n of H_n.
    within_documents : bool, default False
        Count pairs and n-grams only inside documents (default: across them, as the paper did).
    n_shards : int, default DEFAULT_SHARDS (20)
        Document shards of the joint jackknife over C(t) and H_n, 1..MAX_SHARDS (255). The shards
        are built once (:meth:`TokenStream.shards`) and given to both curves, so replicate g of β and
        of γ leave out the same documents.
    seed : int, default 0
        The one seed of every random choice. ``numpy.random.SeedSequence(seed)`` spawns one child
        generator per use (``corpus_stats._random.STREAMS``): the shuffle of the C(t) noise floor,
        the halves of the H_n subsample test, the Kneser-Ney held-out split and nested training
        order, the Lanczos start vectors and the bootstrap of the paper-style fits. Recorded in
        ``options["seed_policy"]``.
    snr_threshold : float, optional
        β is fitted only at lags with signal/noise at least this; default ``scaling.SNR_THRESHOLD``
        (5). Also used by the printed summary and its advice.
    external : path or array, optional
        An external L_n curve (e.g. per-position loss of a trained model) shown next to H_n.
    lm : str, path or torch.nn.Module, optional
        A causal language model: its L_n on held-out documents (:func:`corpus_stats.lm.lm_curve`) is
        measured inline and used as the external curve; the corpus is tokenized with the model's own
        tokenizer, so C(t) and L_n (β and γ) refer to the same tokens.
    lm_options : dict, optional
        Passed to :func:`corpus_stats.lm.lm_curve` (``context`` defaults to ``n_max``).
    predict : bool, default True
        Run ``scaling.predict`` and store its summary in ``measurement.prediction``.
    progress : bool, default False
        Progress bars with time left on stderr.
    memory_limit : str or int, optional
        Memory the counting may use (``"8GB"``, bytes); default
        ``corpus_stats.execution.DEFAULT_RAM_FRACTION`` of the machine's RAM. H_n is counted in
        first-token partitions that fit it and the Kneser–Ney bound trains on at most what fits (see
        docs/scale.md); a limit below the smallest partition fails before any counting.
    scheduler : str or distributed.Client, optional
        Where the partitions run: None (this process), ``"local:N"`` (a Dask LocalCluster of N worker
        processes), ``"tcp://HOST:PORT"`` (an existing Dask cluster whose workers read the saved stream
        from the same path) or a ``distributed.Client``. Results do not depend on it. Text inputs are
        tokenized on the workers too (see :func:`corpus_stats.tokenize`).
    on_stream : callable, optional
        Called with the token stream once it is ready, before any counting: to check options that
        depend on it (its vocabulary) or to keep it for a further analysis without tokenizing again.
    **read_options
        Passed to the reader/tokenizer (``max_tokens``, ``doc_split``, ``text_field``, ``cache_dir``...).

    Returns
    -------
    Measurement
        The curves, with provenance, options, timings and the prediction summary.

    Raises
    ------
    ValueError, TypeError
        A parameter breaks its rule (checked before any counting, see :func:`check_arguments`).

    Examples
    --------
    >>> import corpus_stats as cs
    >>> corpus = cs.synthetic.copy_process(20_000, vocab_size=50, seed=1)  # doctest: +SKIP
    >>> m = cs.measure(corpus, lags=[1, 2, 4, 8], n_max=4)                  # doctest: +SKIP
    """
    from corpus_stats.correlations.curve import correlation_curve
    from corpus_stats.entropy.curve import entropy_curve
    from corpus_stats.execution import Execution

    timings: dict[str, float] = {}
    start = time.perf_counter()
    if lm is not None:
        if external is not None:
            raise ValueError("give either an external L_n curve or a model (lm=), not both.")
        tokenizer = _lm_tokenizer(lm, tokenizer)
    with Execution.create(memory_limit, scheduler) as execution:
        stream, source = _to_stream(inputs, tokenizer, progress=progress, scheduler=execution.executor, **read_options)
        timings["tokenize"] = time.perf_counter() - start
        args = check_arguments(
            stream,
            lags=lags,
            n_max=n_max,
            within_documents=within_documents,
            n_shards=n_shards,
            seed=seed,
            snr_threshold=snr_threshold,
            external=external,
        )
        _check_memory(stream, within_documents, execution, args.shards)  # before any counting
        if on_stream is not None:
            on_stream(stream)
        lm_summary = None
        if lm is not None:
            from corpus_stats.lm import lm_curve

            t = time.perf_counter()
            lm_kw = {"context": n_max, "seed": seed, **(lm_options or {})}
            curve = lm_curve(stream, lm, progress=progress, **lm_kw)
            args = replace(args, external=curve.to_external())
            lm_summary = curve.summary()
            timings["lm"] = time.perf_counter() - t

        t = time.perf_counter()
        corr = correlation_curve(
            stream,
            args.lags,
            within_documents=within_documents,
            n_shards=args.shards,
            seed=seed,
            progress=progress,
            execution=execution,
        )
        timings["correlations"] = time.perf_counter() - t
        t = time.perf_counter()
        ent = entropy_curve(
            stream,
            n_max,
            within_documents=within_documents,
            n_shards=args.shards,
            seed=seed,
            external=args.external,
            progress=progress,
            execution=execution,
        )
        timings["entropy"] = time.perf_counter() - t
        execution_info = execution.describe()

    options = {
        "tokenizer": source.get("tokenizer", tokenizer),
        "lags": None if lags is None else [int(x) for x in lags],
        "n_max": int(n_max),
        "within_documents": bool(within_documents),
        "n_shards": int(n_shards),
        "seed": int(seed),
        "seed_policy": f"numpy.random.SeedSequence(seed).spawn({len(STREAMS)}), one child each: {', '.join(STREAMS)}",
        "snr_threshold": args.snr_threshold,
        "external": None if external is None or not isinstance(external, (str, os.PathLike)) else str(external),
        "execution": execution_info,
        **{k: v for k, v in read_options.items() if k != "cache_dir"},
    }
    if lm_summary is not None:
        options["lm"] = lm_summary
    provenance = _provenance(stream, source)
    m = Measurement(corr, ent, json_safe(provenance), json_safe(options), timings)
    if predict:
        t = time.perf_counter()
        m = m.with_prediction(run_prediction(m))
        timings["prediction"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    return Measurement(m.correlations, m.entropy, m.provenance, m.options, timings, m.prediction)


@dataclass(frozen=True)
class Arguments:
    """The checked arguments of :func:`measure` that its steps share (see :func:`check_arguments`)."""

    lags: np.ndarray
    shards: Shards
    snr_threshold: float
    external: Any


def check_arguments(
    stream: TokenStream,
    *,
    lags: Sequence[int] | None,
    n_max: int,
    within_documents: bool,
    n_shards: int,
    seed: int,
    snr_threshold: float | None,
    external: Any,
) -> Arguments:
    """Check every parameter of :func:`measure` against ``stream`` before anything is counted.

    Each rule is its owner's (lags: :func:`~corpus_stats.correlations.curve.check_lags`; n_max:
    :func:`~corpus_stats.entropy.curve.check_n_max`; shards: :meth:`TokenStream.shards`; seed:
    ``corpus_stats._random.check_seed``; signal/noise: ``scaling.check_snr_threshold``; an external
    curve is read now), so a bad value fails in seconds, not after C(t) has been counted.

    Raises
    ------
    ValueError, TypeError
        Naming the rule and the value received.
    """
    from corpus_stats.correlations.curve import check_lags
    from corpus_stats.entropy.curve import check_n_max
    from corpus_stats.entropy.external import ExternalCurve, read_entropy_curve
    from scaling import SNR_THRESHOLD, check_snr_threshold

    if not isinstance(within_documents, (bool, np.bool_)):
        raise TypeError(f"within_documents must be True or False; got {within_documents!r}.")
    checked_lags = check_lags(lags, stream.n_tokens)
    check_n_max(n_max, stream.n_tokens)
    check_seed(seed)
    shards = stream.shards(n_shards)
    threshold = check_snr_threshold(SNR_THRESHOLD if snr_threshold is None else snr_threshold)
    if external is not None and not isinstance(external, ExternalCurve):
        external = read_entropy_curve(external)
    return Arguments(checked_lags, shards, threshold, external)


def _check_memory(stream: TokenStream, within_documents: bool, execution, shards) -> None:
    """Raise MemoryLimitError now if a partitioned statistic cannot fit the limit (see docs/scale.md)."""
    from corpus_stats.correlations.plan import pair_count_plan
    from corpus_stats.entropy import kneser_ney
    from corpus_stats.entropy.ngrams import ngram_plan

    ngram_plan(stream, within_documents, execution)
    kneser_ney.train_token_cap(stream, execution.memory_limit)
    pair_count_plan(stream, within_documents, execution, shards)


def _lm_tokenizer(lm: Any, tokenizer: str) -> str:
    """The model's own tokenizer spec; a different, non-default ``tokenizer`` is an error."""
    if not isinstance(lm, (str, os.PathLike)):
        return tokenizer  # a module: the inputs must already be its token ids
    from corpus_stats.lm.models import model_tokenizer
    from corpus_stats.text.tokenizers import DEFAULT_TOKENIZER

    own = model_tokenizer(str(lm))
    if tokenizer not in (DEFAULT_TOKENIZER, own):
        raise ValueError(
            f"tokenizer {tokenizer!r} conflicts with the model's own ({own!r}); a model scores its own tokens, "
            "so leave the tokenizer unset."
        )
    return own


def _to_stream(inputs: Any, tokenizer: str, *, progress: bool, scheduler: Any = None, **read_options) -> tuple:
    """The token stream to measure and a description of where it came from."""
    if isinstance(inputs, TokenStream):
        return inputs, {"kind": "token-stream", "tokenizer": inputs.provenance.get("tokenizer")}
    if hasattr(inputs, "stream") and isinstance(inputs.stream, TokenStream):
        # a corpus_stats.synthetic corpus: record what generated it and the known answers
        source = {
            "kind": "synthetic",
            "generator": getattr(inputs, "kind", None),
            "params": dict(getattr(inputs, "params", {}) or {}),
            "expected_beta": getattr(inputs, "expected_beta", None),
            "expected_gamma": getattr(inputs, "expected_gamma", None),
            "tokenizer": "synthetic",
        }
        return inputs.stream, source
    from corpus_stats.text.tokenization import tokenize

    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    saved = saved_stream_dir(inputs[0]) if len(inputs) == 1 and isinstance(inputs[0], (str, os.PathLike)) else None
    if saved is not None:  # tokenized once (tokenize -o, synth --format stream), memory-mapped here
        return _saved_stream(saved)
    stream = tokenize(list(inputs), tokenizer, progress=progress, scheduler=scheduler, **read_options)
    return stream, {"kind": "corpus", "tokenizer": tokenizer}


def _saved_stream(path: Path) -> tuple:
    """A saved stream (memory-mapped) and its source; a synth directory's synthetic.json says what made it."""
    import json

    stream = TokenStream.load(path, mmap=True)
    source = {"kind": "token-stream", "path": str(path), "tokenizer": stream.provenance.get("tokenizer")}
    described = path.parent / "synthetic.json"
    if path.name == "stream" and described.is_file():
        d = json.loads(described.read_text())
        source.update(
            kind="synthetic",
            generator=d.get("kind"),
            params=d.get("params") or {},
            expected_beta=d.get("expected_beta"),
            expected_gamma=d.get("expected_gamma"),
            tokenizer="synthetic",
        )
    return stream, source


def _provenance(stream: TokenStream, source: dict) -> dict:
    from corpus_stats._version import __version__

    prov = dict(stream.provenance)
    prov.setdefault("source", source)
    if source.get("kind") == "synthetic":
        prov["source"] = source
    prov.setdefault("tokenizer", source.get("tokenizer"))
    prov.update(
        n_tokens=stream.n_tokens,
        n_documents=stream.n_documents,
        vocab_size=stream.vocab_size,
        eos_id=stream.eos_id,
        package_version=__version__,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        python=platform.python_version(),
        numpy=np.__version__,
        platform=sys.platform,
    )
    return prov
