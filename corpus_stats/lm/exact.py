"""An exact "language model" of a synthetic Markov chain, for checking the L_n plumbing (private).

:class:`MarkovLM` returns, as logits, the exact conditional log-probabilities of a
:func:`corpus_stats.synthetic.markov_chain` corpus given the tokens it has seen, so its per-position
loss averages to the exact H_n at every n: any error in the position or averaging conventions of
:func:`corpus_stats.lm.lm_curve` shows up against :meth:`SyntheticCorpus.exact_entropy`. Public through
:mod:`corpus_stats.lm` (imported on first use: this module imports torch).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch


def _conditional_tables(model: dict, vocab: int, order: int) -> list[np.ndarray]:
    """log P(next | last m tokens) for m = 0..order, each of shape (vocab**m, vocab).

    Contexts of m < order tokens use the stationary m- and (m+1)-block marginals (the chain's first
    tokens are drawn from the stationary block distribution, so every document start is stationary);
    m = order uses the transition tensor. Impossible contexts get a uniform row (never scored).
    """
    pi = model["pi"]
    blocks = pi.reshape((vocab,) * order)  # axis 0 = oldest token
    marg = [np.ones(1)] + [blocks.sum(axis=tuple(range(order - m))).ravel() for m in range(1, order + 1)]
    tables = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for m in range(order):
            cond = marg[m + 1].reshape(vocab**m, vocab) / marg[m][:, None]
            tables.append(np.where(marg[m][:, None] > 0, np.log(cond), -np.log(vocab)))
        n_states = vocab**order
        trans = model["transition"].tocsr()
        rows = np.repeat(np.arange(n_states), vocab)
        cols = (rows * vocab + np.tile(np.arange(vocab), n_states)) % n_states
        probs = np.asarray(trans[rows, cols]).reshape(n_states, vocab)
        live = probs.sum(axis=1, keepdims=True) > 0
        tables.append(np.where(live, np.log(probs), -np.log(vocab)))
    return tables


class MarkovLM(torch.nn.Module):
    """Exact next-token log-probabilities of a synthetic order-k Markov chain, as a causal LM.

    Token ids are the chain's ``0..V-1`` plus a beginning-of-sequence id ``V`` (``config.bos_token_id``);
    a sequence that starts with it is a document start. At each position the logits are
    ``log P(x_{i+1} | the last min(m, k) tokens seen)``, m the number of chain tokens so far, so the
    expected loss at context length n is exactly ``H_n`` (Cover & Thomas, ch. 4) for n >= 0.

    Parameters
    ----------
    corpus : SyntheticCorpus
        Made by :func:`corpus_stats.synthetic.markov_chain`.

    Examples
    --------
    >>> from corpus_stats import synthetic
    >>> lm = MarkovLM(synthetic.markov_chain(1000, vocab_size=4, order=2, seed=0))
    >>> lm(torch.tensor([[4, 0, 1]])).logits.shape
    torch.Size([1, 3, 5])
    """

    def __init__(self, corpus) -> None:
        super().__init__()
        if getattr(corpus, "kind", None) != "markov_chain":
            raise ValueError(
                f"MarkovLM needs a synthetic markov_chain corpus; got {getattr(corpus, 'kind', corpus)!r}."
            )
        vocab, order = int(corpus.params["vocab_size"]), int(corpus.params["order"])
        self.vocab, self.order = vocab, order
        for m, table in enumerate(_conditional_tables(corpus._model, vocab, order)):
            self.register_buffer(f"table{m}", torch.from_numpy(table))
        self.config = SimpleNamespace(vocab_size=vocab + 1, bos_token_id=vocab, n_positions=None)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_):
        """Logits ``(batch, length, V + 1)`` (float64; the bos id gets -inf) in ``.logits``."""
        x = input_ids.long()
        batch, length = x.shape
        bos = self.vocab
        starts = (x[:, :1] == bos).long()
        seen = torch.arange(length, device=x.device)[None, :] + 1 - starts  # chain tokens up to here
        m = seen.clamp(min=0, max=self.order)
        chain = torch.where(x == bos, torch.zeros_like(x), x)
        logits = torch.full((batch, length, self.vocab + 1), -torch.inf, dtype=torch.float64, device=x.device)
        index = torch.zeros_like(x)
        for mm in range(self.order + 1):
            if mm:  # add the token mm - 1 steps back as the next base-V digit (oldest most significant)
                back = torch.nn.functional.pad(chain, (mm - 1, 0))[:, :length]
                index = index + back * self.vocab ** (mm - 1)
            sel = m == mm
            if sel.any():
                logits[..., : self.vocab][sel] = getattr(self, f"table{mm}")[index[sel]]
        return SimpleNamespace(logits=logits)
