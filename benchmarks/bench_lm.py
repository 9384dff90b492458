"""Benchmark: L_n evaluation and GPT-2 training speed (tokens per second), randomly initialised models.

Random weights cost the same as trained ones, so no download is needed::

    python benchmarks/bench_lm.py                    # CPU (or the GPU, when torch sees one)
    python benchmarks/bench_lm.py --device cpu --threads 2 --sequences 32

Evaluation (:func:`corpus_stats.lm.lm_curve`, forward passes only, documents convention) runs on the
``tiny`` preset and on a ~100M-parameter GPT-2 (the ``base`` preset, 12 x 768, with V = 16,384:
97.8M parameters); training (:func:`corpus_stats.lm.train_lm`, forward + backward + AdamW step) on
``tiny`` and ``small``. One JSON line per case. Corpora are iid Zipf tokens (the speed does not
depend on what the tokens are).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

VOCAB, CONTEXT = 16_384, 256


def _corpus(n_docs: int, doc_len: int, vocab: int, seed: int = 0):
    from corpus_stats import synthetic

    return synthetic.iid_zipf(n_docs * doc_len, vocab_size=vocab, n_documents=n_docs, seed=seed)


def bench_eval(size: str, sequences: int, batch: int, device: str) -> dict:
    import torch
    from transformers import GPT2LMHeadModel

    from corpus_stats.lm import lm_curve
    from corpus_stats.lm.models import gpt_config

    torch.manual_seed(0)
    model = GPT2LMHeadModel(gpt_config(size, VOCAB, CONTEXT + 1, bos_id=VOCAB - 1))
    corpus = _corpus(sequences * 10, CONTEXT + 1, VOCAB - 1)  # 10% held out: `sequences` documents
    t = time.perf_counter()
    curve = lm_curve(corpus, model, context=CONTEXT, batch_size=batch, device=device, max_sequences=sequences)
    return {
        "case": f"eval {size}",
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": curve.device,
        "dtype": curve.dtype,
        "batch": batch,
        "context": CONTEXT,
        "tokens": curve.n_tokens,
        "tokens_per_s": round(curve.tokens_per_second),
        "wall_s": round(time.perf_counter() - t, 2),
    }


def bench_train(size: str, steps: int, batch: int, device: str) -> dict:
    from corpus_stats.lm import train_lm

    corpus = _corpus(400, 4 * (CONTEXT + 1), VOCAB - 1)
    t = time.perf_counter()
    res = train_lm(
        corpus,
        size=size,
        tokens=steps * batch * (CONTEXT + 1),
        n_checkpoints=1,
        context=CONTEXT,
        batch_size=batch,
        device=device,
        max_sequences=10,
    )
    return {
        "case": f"train {size}",
        "parameters": res.n_parameters,
        "device": res.device,
        "batch": batch,
        "context": CONTEXT,
        "tokens": int(res.budgets[-1]),
        "tokens_per_s": round(res.tokens_per_second),
        "wall_s": round(time.perf_counter() - t, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads [default: torch's]")
    parser.add_argument("--sequences", type=int, default=16, help="held-out sequences per evaluation")
    parser.add_argument("--steps", type=int, default=10, help="training steps per case")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                "machine": platform.processor() or platform.machine(),
            }
        )
    )
    print(json.dumps(bench_eval("tiny", max(args.sequences, 10) * 4, 16, args.device)))
    print(json.dumps(bench_eval("base", max(args.sequences, 10), 4, args.device)))
    print(json.dumps(bench_train("tiny", args.steps, 16, args.device)))
    print(json.dumps(bench_train("small", args.steps, 8, args.device)))


if __name__ == "__main__":
    main()
