"""`corpus-stats spectrum`: the top-k singular values of C(t) per lag against the shuffled noise edge."""

from __future__ import annotations

import click

from corpus_stats.cli.common import corpus_input_options, output_options, seed_option, user_errors


@click.command("spectrum")
@corpus_input_options
@click.option("--lags", default="1,2,4,8,16,32,64,128", show_default=True, help="Lags, e.g. '1,4,16' or '1:256:log4'.")
@click.option(
    "-k", "--k", "k", type=click.IntRange(min=1), default=64, show_default=True, help="Singular values per lag."
)
@click.option("--within-documents", is_flag=True, help="Count only pairs inside one document.")
@seed_option("Seed of the shuffle.")
@click.option(
    "--vectors",
    type=click.IntRange(min=0),
    default=4,
    show_default=True,
    help="Top singular vectors whose tokens are listed.",
)
@output_options("spectrum.json", plot=True, figures="spectrum.png")
@user_errors
def spectrum_command(corpus_input, lags, k, within_documents, seed, vectors, out, force, plot, as_json):
    """Top-k singular values of C(t) per lag for INPUTS, with the shuffled stream's spectrum as the noise edge.

    Writes spectrum.json (values, noise, n_above, stable rank, bulk fit, top-loading tokens), spectrum.csv
    (one row per lag and rank) and spectrum.png into --out.
    """
    from pathlib import Path

    from corpus_stats.cli.common import default_out
    from corpus_stats.correlations import parse_lags
    from corpus_stats.correlations.spectrum import spectrum
    from corpus_stats.text.tokenization import tokenize

    out = Path(out or default_out(corpus_input["corpus_or_inputs"]))
    if (out / "spectrum.json").exists() and not force:
        raise FileExistsError(f"{out / 'spectrum.json'} already exists; pass --force to replace it or choose --out.")
    stream = tokenize(**corpus_input)
    spec = spectrum(
        stream, parse_lags(lags, stream.n_tokens - 1), k, within_documents=within_documents, seed=seed,
        n_vectors=vectors, progress=corpus_input["progress"],
    )  # fmt: skip
    files = save_spectrum(spec, out, plot)
    if as_json:
        click.echo(files[0].read_text())
        return
    lines = spec.table()
    first = spec.top_tokens[0][0] if spec.top_tokens and spec.top_tokens[0] else None
    if first:
        show = ", ".join(repr(w) for w, _ in first["left"]["positive"][:5])
        lines.append(f"t={spec.lags[0]} top vector, left side loads most: {show}")
    lines += [f"note: {n}" for n in spec.options["notes"]]
    lines.append(f"wrote {files[0]}, " + ", ".join(f.name for f in files[1:]))
    click.echo("\n".join(lines))


def save_spectrum(spec, out, plot: bool) -> list:
    """The spectrum's files in ``out``, and ``spectrum.png`` with ``plot`` (for ``spectrum`` and ``measure``)."""
    files = spec.save(out)
    if plot:
        from pathlib import Path

        from corpus_stats.report.geometry_figures import spectrum_figure

        files.append(Path(spectrum_figure(spec, out / "spectrum.png")))
    return files
