"""L_n from language models: exact Markov ground truth, a tiny local GPT-2, training, CLI, bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from click.testing import CliRunner  # noqa: E402

from corpus_stats import synthetic  # noqa: E402
from corpus_stats.cli import cli  # noqa: E402
from corpus_stats.entropy.external import read_entropy_curve  # noqa: E402
from corpus_stats.lm import MarkovLM, lm_curve, preset_parameters, train_lm  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run fastest (and identically) on one thread; a shared CI machine thrashes with more."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def markov():
    return synthetic.markov_chain(200_000, vocab_size=8, order=2, n_successors=3, n_documents=4000, seed=1)


@pytest.mark.parametrize("convention", ["documents", "stream"])
def test_exact_markov_model_reproduces_exact_entropy(markov, convention):
    """The exact chain as a model: L_n = H_n at every n (0..12) within its standard error."""
    curve = lm_curve(markov, MarkovLM(markov), context=12, convention=convention, max_sequences=4000, batch_size=64)
    exact = markov.exact_entropy(12)[curve.n]
    assert curve.n.tolist() == list(range(0 if convention == "documents" else 1, 13))
    assert curve.dtype == "exact"
    z = (curve.loss - exact) / curve.stderr
    assert np.all(np.abs(z) < 4), z
    # all n together: chi-square with the points' correlations ignored (they share sequences) stays sane
    assert np.mean(z**2) < 4
    # the positions are pinned: H_0 > H_1 > H_2 differ by many standard errors
    if convention == "documents":
        assert abs(curve.loss[0] - exact[0]) < 4 * curve.stderr[0] < exact[0] - exact[1]


def test_exact_model_logits_match_chain(markov):
    """Spot check of the tables: after a bos, position 0 is the unigram law, later the transitions."""
    lm = MarkovLM(markov)
    x = torch.tensor([[8, 0, 1, 2]])
    p = torch.exp(lm(x).logits[0])
    assert torch.allclose(p.sum(-1), torch.ones(4, dtype=torch.float64))
    assert p[0, 8] == 0  # the bos is never predicted
    pi = markov._model["pi"].reshape(8, 8)
    assert np.allclose(p[0, :8].numpy(), pi.sum(axis=0))
    with pytest.raises(ValueError, match="markov_chain"):
        MarkovLM(synthetic.iid_zipf(100, seed=0))


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory):
    """A randomly initialised 1-layer GPT-2 and a word-level tokenizer, saved locally (no download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    root = tmp_path_factory.mktemp("tiny")
    corpus = synthetic.markov_chain(20_000, vocab_size=8, order=2, n_documents=200, seed=1)
    text = synthetic.write_corpus(corpus, root / "data")
    vocab = {str(i): i for i in range(8)} | {"<|endoftext|>": 8, "[UNK]": 9}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(["<|endoftext|>"])
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=10, n_positions=32, n_layer=1, n_head=2, n_embd=16, bos_token_id=8, eos_token_id=8
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(root / "model")
    tok.save(str(root / "model" / "tokenizer.json"))
    return text, root / "model"


def test_tiny_gpt2_loads_by_path_tokenizes_and_batches(tiny_gpt2, tmp_path):
    text, model = tiny_gpt2
    kw = dict(context=64, doc_split="line", use_cache=False)
    a = lm_curve(text, str(model), batch_size=1, output=tmp_path / "l.csv", **kw)
    b = lm_curve(text, str(model), batch_size=7, **kw)
    assert np.allclose(a.loss, b.loss, atol=1e-5)
    # the model has 32 positions: 64 is clipped to 31 (bos + 31 tokens), and said
    assert a.context == 31 and a.n.tolist() == list(range(32))
    assert any("clipped to 31" in note for note in a.notes)
    assert a.info["bos_id"] == 8 and a.info["n_parameters"] > 0
    # the CSV is the file --entropy-curve reads
    back = read_entropy_curve(tmp_path / "l.csv")
    assert np.allclose(back.loss, a.loss) and np.allclose(back.stderr, a.stderr)
    # an untrained model predicts about uniformly over its 10 outputs
    assert np.all(np.abs(a.loss - np.log(10)) < 0.3)
    c = lm_curve(text, str(model), batch_size=4, convention="stream", **kw)
    assert c.n[0] == 1 and c.convention == "stream"


def test_cli_lm_curve_json_and_refusals(tiny_gpt2, tmp_path):
    text, model = tiny_gpt2
    base = ["lm-curve", str(text), "--doc-split", "line", "--no-cache", "--out", str(tmp_path)]
    res = CliRunner().invoke(cli, [*base, "--model", str(model), "--context", "8", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["n"] == list(range(9)) and len(doc["loss"]) == 9 and doc["convention"] == "documents"
    assert (tmp_path / "lm_curve.csv").is_file()
    again = CliRunner().invoke(cli, [*base, "--model", str(model)])
    assert again.exit_code == 1 and "already exists" in again.output
    both = CliRunner().invoke(cli, [*base, "--force", "--model", str(model), "--train"])
    assert both.exit_code == 1 and "exactly one of --model" in both.output
    clash = CliRunner().invoke(cli, [*base, "--force", "--model", str(model), "-t", "bytes"])
    assert clash.exit_code == 1 and "conflicts with the model's own tokenizer" in clash.output


def test_bad_models(tmp_path, markov):
    with pytest.raises(ValueError, match="offline|Hub"):
        lm_curve(markov, "no-such-org/no-such-model-xyz")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        lm_curve(markov, str(tmp_path))
    bert = transformers.BertConfig(
        vocab_size=20, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    transformers.BertForMaskedLM(bert).save_pretrained(tmp_path / "bert")
    with pytest.raises(ValueError, match="not a causal"):
        lm_curve(markov, str(tmp_path / "bert"))
    with pytest.raises(ValueError, match="device"):
        lm_curve(markov, MarkovLM(markov), device="tpu")
    with pytest.raises(ValueError, match="convention"):
        lm_curve(markov, MarkovLM(markov), convention="random")


def test_too_few_sequences_and_foreign_ids(markov):
    small = synthetic.markov_chain(2000, vocab_size=8, order=2, n_documents=40, seed=2)
    with pytest.raises(ValueError, match="only 4 held-out sequences"):
        lm_curve(small, MarkovLM(small), context=8)
    other = synthetic.markov_chain(2000, vocab_size=16, order=1, n_documents=40, seed=2)
    with pytest.raises(ValueError, match="outputs; tokenize the corpus with the model's own tokenizer"):
        lm_curve(other, MarkovLM(small), context=8)


def test_out_of_memory_retries_with_smaller_batches(markov):
    """An OOM halves the batch until it fits (and the curve is unchanged); at batch 1 a clear error."""

    class Flaky(MarkovLM):
        limit = 16

        def forward(self, input_ids, **kw):
            if input_ids.shape[0] > self.limit:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return super().forward(input_ids, **kw)

    ref = lm_curve(markov, MarkovLM(markov), context=6, batch_size=64, max_sequences=100)
    got = lm_curve(markov, Flaky(markov), context=6, batch_size=64, max_sequences=100)
    assert np.allclose(ref.loss, got.loss) and got.info["batch_size"] == 16
    assert any("out of memory at batch size 64" in note for note in got.notes)
    Flaky.limit = 0
    with pytest.raises(MemoryError, match="even one sequence at a time"):
        lm_curve(markov, Flaky(markov), context=6, batch_size=4, max_sequences=100)


def test_preset_parameter_counts_match_transformers():
    from corpus_stats.lm.models import gpt_config

    for size in ("tiny", "small"):
        model = transformers.GPT2LMHeadModel(gpt_config(size, 1000, 65))
        assert preset_parameters(size, 1000, 65) == sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def low_entropy():
    return synthetic.markov_chain(100_000, vocab_size=8, order=2, n_successors=2, n_documents=1000, seed=3)


def test_training_falls_toward_exact_entropy(low_entropy, tmp_path):
    """A tiny GPT-2 on a low-entropy chain: L_n (n >= order) falls toward H_n as P grows."""
    kw = dict(size="tiny", context=8, batch_size=4, lr=3e-3, device="cpu", max_sequences=100)
    res = train_lm(low_entropy, tokens=8192, n_checkpoints=3, out=tmp_path, **kw)
    exact = low_entropy.exact_entropy(8)
    gaps = np.array([np.mean(c.loss[c.n >= 2] - exact[c.n[c.n >= 2]]) for c in res.curves])
    assert res.budgets.tolist() == [2052, 4104, 8208] and len(res.curves) == 3
    assert gaps[2] < gaps[1] < gaps[0] and gaps[2] < gaps[0] - 0.15, gaps
    assert np.all(gaps > -0.05)  # a model's loss is an upper bound of H_n (within noise)
    # collapse table and curve file written; the table is what `plot --collapse` reads
    from corpus_stats.report.loss_tables import read_collapse_table

    table = read_collapse_table(tmp_path / "collapse.csv")
    assert set(table["tokens"]) == {2052.0, 4104.0, 8208.0} and table["n"].min() == 1
    assert read_entropy_curve(tmp_path / "lm_curve.csv").n.tolist() == list(range(9))
    assert (tmp_path / "checkpoints" / "P8208" / "config.json").is_file()


def test_training_is_deterministic(low_entropy):
    kw = dict(size="tiny", tokens=720, n_checkpoints=1, context=8, batch_size=4, device="cpu", max_sequences=20)
    a, b = train_lm(low_entropy, **kw), train_lm(low_entropy, **kw)
    assert np.array_equal(a.curve.loss, b.curve.loss) and np.array_equal(a.train_loss, b.train_loss)
    c = train_lm(low_entropy, **{**kw, "seed": 1})
    assert not np.array_equal(a.train_loss, c.train_loss)


@pytest.mark.slow
def test_training_reaches_exact_entropy_slow(low_entropy):
    res = train_lm(low_entropy, size="tiny", tokens=2**17, n_checkpoints=4, context=16, batch_size=32, device="cpu")
    exact = low_entropy.exact_entropy(16)
    c = res.curve
    assert np.mean(c.loss[c.n >= 2] - exact[c.n[c.n >= 2]]) < 0.1


def test_import_corpus_stats_does_not_import_torch():
    code = "import sys, corpus_stats, corpus_stats.lm, corpus_stats.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_measure_with_exact_model_reads_against_bracket(markov):
    """measure(lm=) fits gamma on the model curve; the exact model is not flagged, a lowered copy is."""
    from corpus_stats.entropy.curve import entropy_curve
    from corpus_stats.entropy.external import ExternalCurve
    from corpus_stats.pipeline import measure
    from corpus_stats.report.summary import format_summary

    m = measure(markov, lags=[1, 2, 4], n_max=6, lm=MarkovLM(markov), lm_options={"max_sequences": 4000})
    assert m.options["lm"]["model"] == "MarkovLM" and m.options["lm"]["context"] == 6
    assert np.isfinite(m.entropy.external).all()
    assert m.entropy.options["external_below_counts"] == []
    assert "above every valid count estimate" in format_summary(m)
    exact = markov.exact_entropy(6)
    low = ExternalCurve(np.arange(7), exact - 0.2, np.full(7, 0.01), "too low")
    curve = entropy_curve(markov.stream, 6, upper=False, external=low)
    assert curve.options["external_below_counts"] == list(range(7))
    # the entropy figure draws the model curve with the bracket and marks the undercut points
    from corpus_stats.report.entropy_figure import plot_entropy
    from corpus_stats.report.measurement import Measurement

    labels = [t.get_text() for t in plot_entropy(Measurement(None, curve)).axes[0].get_legend().get_texts()]
    assert "L_n below a valid count: n = 1, 2, 3, 4, 5, 6" in labels
    labels = [t.get_text() for t in plot_entropy(m).axes[0].get_legend().get_texts()]
    assert "model L_n (MarkovLM)" in labels and not any("below a valid" in t for t in labels)


def test_cli_measure_lm_uses_model_tokenizer(tiny_gpt2, tmp_path):
    text, model = tiny_gpt2
    args = ["measure", str(text), "--doc-split", "line", "--no-cache", "--lags", "1,2", "--n-max", "4"]
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path), "--lm", str(model), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["options"]["lm"]["n_sequences"] == 20
    assert doc["provenance"]["tokenizer"]["spec"] == str(model)
    assert len(doc["entropy"]["external"]) == 5 and None not in doc["entropy"]["external"]
    both = CliRunner().invoke(
        cli, [*args, "--out", str(tmp_path / "b"), "--lm", str(model), "--entropy-curve", str(text)]
    )
    assert both.exit_code == 1 and "not both" in both.output


def test_cli_train_writes_curve_collapse_table_and_checkpoints(tiny_gpt2, tmp_path):
    text, _ = tiny_gpt2
    args = ["lm-curve", str(text), "--doc-split", "line", "--no-cache", "-t", "chars", "--train", "--device", "cpu"]
    args += ["--tokens", "720", "--checkpoints", "2", "--context", "8", "--batch-size", "4", "--max-sequences", "10"]
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["training"]["budgets"] == [360, 720] and doc["training"]["size"] == "tiny"
    assert doc["n"] == list(range(9))  # the corpus's eos is the bos: L_0 too
    assert (tmp_path / "collapse.csv").is_file() and (tmp_path / "checkpoints" / "P720").is_dir()
