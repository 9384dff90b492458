"""`corpus-stats lm-curve`: L_n of a causal language model (pretrained, or trained here) on a corpus."""

from __future__ import annotations

import functools

import click

from corpus_stats.cli.common import corpus_input_options, output_options, seed_option, user_errors


def lm_options(func):
    """Evaluation options shared by ``lm-curve`` and ``measure --lm``, passed on as ``lm_options``."""
    options = [
        click.option(
            "--convention",
            type=click.Choice(["documents", "stream"]),
            default="documents",
            show_default=True,
            help="Sequences from held-out document starts (L_n given exactly n tokens), or random "
            "windows of the held-out stream.",
        ),
        click.option(
            "--heldout-fraction",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=0.1,
            show_default=True,
            help="Share of documents held out (the Kneser-Ney bound's split).",
        ),
        click.option(
            "--max-sequences",
            type=click.IntRange(min=10),
            default=1000,
            show_default=True,
            help="Most held-out sequences scored.",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=8,
            show_default=True,
            help="Sequences per forward pass (--train: per training step).",
        ),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto", show_default=True),
        click.option(
            "--dtype",
            type=click.Choice(["auto", "float32", "float16", "bfloat16"]),
            default="auto",
            show_default=True,
            help="auto: half precision on GPUs, float32 on CPU.",
        ),
        click.option("--no-bos", is_flag=True, help="Do not put the model's bos token before document starts."),
    ]

    @functools.wraps(func)
    def wrapper(*args, convention, heldout_fraction, max_sequences, batch_size, device, dtype, no_bos, **kwargs):
        kwargs["lm_options"] = {
            "convention": convention,
            "heldout_fraction": heldout_fraction,
            "max_sequences": max_sequences,
            "batch_size": batch_size,
            "device": device,
            "dtype": dtype,
            "bos": not no_bos,
        }
        return func(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def model_tokenizer_or_fail(model: str, tokenizer: str) -> str:
    """The model's tokenizer; an explicit, different ``-t`` is an error (β and γ must share tokens)."""
    source = click.get_current_context().get_parameter_source("tokenizer")
    from corpus_stats.lm.models import model_tokenizer

    own = model_tokenizer(model)
    if source is not None and source.name == "COMMANDLINE" and tokenizer != own:
        raise click.ClickException(
            f"-t {tokenizer} conflicts with the model's own tokenizer ({own}); a model scores its own "
            "tokens, so drop -t."
        )
    return own


@click.command("lm-curve")
@corpus_input_options
@click.option(
    "--model", "model", default=None, metavar="NAME_OR_PATH", help="Causal LM: Hugging Face name or directory."
)
@click.option("--train", is_flag=True, help="Train a small GPT-2 on the training documents instead (-t tokenizer).")
@click.option(
    "--context", type=click.IntRange(min=1), default=None, help="Largest context n [default: 256; 128 with --train]."
)
@lm_options
@click.option(
    "--size",
    type=click.Choice(["tiny", "small", "base"]),
    default="tiny",
    show_default=True,
    help="--train: GPT-2 size (tiny 2x64, small 4x256, base 12x768 = GPT-2 small; layers x width).",
)
@click.option(
    "--tokens", type=click.IntRange(min=1), default=2**20, show_default=True, help="--train: largest budget P."
)
@click.option(
    "--checkpoints",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="--train: checkpoints at P / 2^j, j = checkpoints-1..0 (L_n at each).",
)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None, help="--train: learning rate.")
@seed_option("Seed of the held-out split (and of --train's data order and initialisation).")
@output_options("lm_curve.csv")
@user_errors
def lm_curve_command(
    corpus_input, model, train, context, lm_options, size, tokens, checkpoints, lr, seed, out, force, as_json
):
    """L_n of a causal language model on held-out documents of INPUTS, as the n, loss, stderr file
    that `measure --entropy-curve` reads (lm_curve.csv in --out).

    --model evaluates a pretrained model (its own tokenizer); --train trains a GPT-2 on the corpus
    and also writes collapse.csv (L_n at each budget P, for `plot --collapse`) and its checkpoints.
    """
    import json
    from pathlib import Path

    from corpus_stats.cli.common import default_out

    if (model is None) == (not train):
        raise click.ClickException("give exactly one of --model NAME_OR_PATH and --train.")
    options = dict(corpus_input)
    inputs = options.pop("corpus_or_inputs")
    out = Path(out or default_out(inputs))
    if (out / "lm_curve.csv").exists() and not force:
        raise click.ClickException(f"{out / 'lm_curve.csv'} already exists; choose another --out or pass --force.")
    progress = options.pop("progress")
    files = [out / "lm_curve.csv"]
    if train:
        from corpus_stats.lm.train import train_lm

        lm_options.pop("dtype"), lm_options.pop("bos")  # evaluation of a model being trained: float32, bos
        result = train_lm(
            inputs,
            size=size,
            tokens=tokens,
            n_checkpoints=checkpoints,
            context=context or 128,
            lr=lr,
            seed=seed,
            out=out,
            progress=progress,
            **lm_options,
            **options,
        )
        curve, extra = result.curve, {"training": result.summary()}
        files += [out / "collapse.csv", out / "checkpoints"]
    else:
        from corpus_stats.lm.evaluate import lm_curve

        options["tokenizer"] = model_tokenizer_or_fail(model, options["tokenizer"])
        curve = lm_curve(
            inputs,
            model,
            context=context or 256,
            seed=seed,
            output=out / "lm_curve.csv",
            progress=progress,
            **lm_options,
            **options,
        )
        extra = {}
    if as_json:
        doc = {
            **curve.summary(),
            **extra,
            "n": curve.n.tolist(),
            "loss": curve.loss.tolist(),
            "stderr": curve.stderr.tolist(),
            "files": [str(f) for f in files],
        }
        click.echo(json.dumps(doc, indent=2, allow_nan=False, default=str))
        return
    click.echo(format_curve(curve, extra.get("training")))
    for note in curve.notes:
        click.echo(f"  note      {note}")
    click.echo(f"  wrote     {', '.join(str(f) for f in files)}")


def format_curve(curve, training: dict | None = None) -> str:
    """A few lines: the model, the conventions, and L_n at a handful of n."""
    lines = [
        f"L_n of {curve.model} ({curve.convention}, context {curve.context}, {curve.n_sequences:,} "
        f"held-out sequences, {curve.device} {curve.dtype}, {curve.tokens_per_second:,.0f} tokens/s)"
    ]
    if training:
        lines.append(
            f"  trained   {training['size']} GPT-2, {training['n_parameters']:,} parameters, budgets P = "
            f"{', '.join(f'{b:,}' for b in training['budgets'])} tokens "
            f"at {training['tokens_per_second']:,.0f} tokens/s"
        )
    idx = sorted({0, 1, 2, 3, 4, 8, 16, 32, 64, 128, 256, 512, 1024} & set(range(curve.n.size)) | {curve.n.size - 1})
    lines += [f"  n = {int(curve.n[i]):>4}   L_n = {curve.loss[i]:.4f} ± {curve.stderr[i]:.4f} nats" for i in idx]
    return "\n".join(lines)
