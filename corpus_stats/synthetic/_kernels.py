"""Numba kernels for the sequential synthetic generators (no I/O, validation or raising here)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def _markov_chain(out, state, successors, cumprob, uniforms, vocab_size, n_states):
    """Continue an order-k Markov chain in ``out`` from ``out[k:]`` on.

    ``out[:k]`` already holds the initial context, whose code is ``state``; row ``s`` of
    ``successors``/``cumprob`` lists the allowed next tokens of context ``s`` and their cumulative
    probabilities (last entry 1). ``uniforms[i]`` in [0, 1) draws token ``i``.
    """
    n_succ = successors.shape[1]
    k = out.size - uniforms.size
    for i in range(uniforms.size):
        u = uniforms[i]
        j = 0
        while j < n_succ - 1 and u >= cumprob[state, j]:
            j += 1
        x = successors[state, j]
        out[k + i] = x
        state = (state * vocab_size + x) % n_states
    return state
