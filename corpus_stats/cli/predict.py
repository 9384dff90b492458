"""Commands that read a report and predict or test the data-scaling exponent: predict, compare."""

from __future__ import annotations

import click

from corpus_stats.cli.common import snr_threshold_option, user_errors


def _prediction_options(func):
    """Options shared by `predict` and `compare` (passed on to scaling.predict)."""
    func = click.option(
        "--confidence",
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        default=0.9,
        show_default=True,
        help="Level of the reported intervals.",
    )(func)
    func = click.option(
        "--floor-constant",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="c in the noise level c/sqrt(P) for the horizon [default: calibrated from the report's shuffled floor].",
    )(func)
    return snr_threshold_option(func)


def _load_and_predict(report, tokens, snr_threshold, floor_constant, confidence):
    """Load REPORT and run scaling.predict with the options of `predict` and `compare`."""
    from corpus_stats.report.measurement import load_measurement
    from corpus_stats.report.summary import prediction_rules
    from scaling import predict

    m = load_measurement(report)
    rules = prediction_rules(m)
    if snr_threshold is not None:
        rules["snr_threshold"] = snr_threshold
    try:
        return predict(
            m,
            **rules,
            floor_constant=floor_constant,
            tokens=list(tokens) or None,
            confidence=confidence,
        )
    except ValueError as exc:  # name the file: the fix is usually in it
        raise ValueError(f"{report}: {exc}") from None


@click.command("predict")
@click.argument("report", type=click.Path(exists=True))
@click.option(
    "--tokens",
    "-P",
    "tokens",
    type=click.FloatRange(min=1),
    multiple=True,
    metavar="P",
    help="Training-set size for t*(P) and L(P); repeat for several [default: 1e6..1e12].",
)
@_prediction_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@user_errors
def predict_command(report, tokens, snr_threshold, floor_constant, confidence, as_json):
    """Fit beta and gamma of REPORT (report.json or its directory) and predict alpha_D, t*(P), L(P)."""
    import json

    pred = _load_and_predict(report, tokens, snr_threshold, floor_constant, confidence)
    click.echo(json.dumps(pred.to_dict()) if as_json else pred.summary())


@click.command("compare")
@click.argument("report", type=click.Path(exists=True))
@click.argument("learning_curve", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--first",
    type=click.IntRange(min=3),
    default=None,
    help="Fit only the first N points (smallest P) of the lower envelope, as the paper did.",
)
@_prediction_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@user_errors
def compare_command(report, learning_curve, first, snr_threshold, floor_constant, confidence, as_json):
    """Compare a measured LEARNING_CURVE (CSV: tokens, loss) with the alpha_D predicted from REPORT."""
    import json

    from corpus_stats.report.loss_tables import read_learning_curve
    from scaling import compare_learning_curve

    tokens, loss = read_learning_curve(learning_curve)
    pred = _load_and_predict(report, tokens, snr_threshold, floor_constant, confidence)
    cmp = compare_learning_curve(pred, tokens, loss, first=first, confidence=confidence)
    click.echo(json.dumps(cmp.to_dict()) if as_json else cmp.summary())
