"""Loading causal language models, choosing devices, and the GPT-2 size presets (private).

Public through :mod:`corpus_stats.lm`. torch and transformers are imported inside the functions, so
importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: GPT-2-style sizes that ``lm-curve --train`` can build (layers, heads, width). Parameter counts
#: depend on the vocabulary and context; :func:`preset_parameters` states them.
PRESETS = {
    "tiny": {"n_layer": 2, "n_head": 2, "n_embd": 64, "lr": 2e-3},
    "small": {"n_layer": 4, "n_head": 4, "n_embd": 256, "lr": 1e-3},
    "base": {"n_layer": 12, "n_head": 12, "n_embd": 768, "lr": 3e-4},  # GPT-2 small (124M with V = 50257)
}
DEVICES = ("auto", "cpu", "cuda", "mps")
_CAUSAL_MARKERS = ("CausalLM", "LMHeadModel")


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A causal LM ready to score tokens.

    Attributes
    ----------
    module : torch.nn.Module
        In eval mode, on ``device``, in ``dtype``.
    name : str
        What the user gave (name, path, or the module's class name).
    device, dtype : str
        Where it runs and its floating-point type.
    vocab_size : int
        Width of its logits.
    max_positions : int or None
        Longest input it accepts (``None``: unlimited).
    bos_id : int or None
        Token put before every document-start sequence (``None``: none; then L_0 is not measured).
    tokenizer : str or None
        A tokenizer spec for :func:`corpus_stats.tokenize` that gives the model's own ids.
    n_parameters : int
    """

    module: Any
    name: str
    device: str
    dtype: str
    vocab_size: int
    max_positions: int | None
    bos_id: int | None
    tokenizer: str | None
    n_parameters: int


@contextlib.contextmanager
def quiet_transformers():
    """No transformers progress bars (loading/saving shards) inside: they would interleave with ours."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def resolve_device(device: str = "auto") -> str:
    """``auto`` → ``cuda`` when available, else ``mps``, else ``cpu``; an unavailable choice is an error."""
    import torch

    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}; got {device!r}.")
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA GPU; use --device cpu or auto.")
    if device == "mps" and not has_mps:
        raise ValueError("device 'mps' was asked for but torch sees no Apple GPU; use --device cpu or auto.")
    return device


def resolve_dtype(device: str, dtype: str = "auto"):
    """``auto``: bfloat16 on CUDA GPUs that support it (else float16), float16 on MPS, float32 on CPU."""
    import torch

    choices = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if dtype == "auto":
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float16 if device == "mps" else torch.float32
    if dtype not in choices:
        raise ValueError(f"dtype must be auto, {', '.join(choices)}; got {dtype!r}.")
    return choices[dtype]


def _is_local(name: str) -> bool:
    return Path(name).expanduser().exists() or name.startswith((".", "/", "~")) or os.sep + os.sep in name


def _load_config(name: str):
    from transformers import AutoConfig

    path = Path(name).expanduser()
    if _is_local(name):
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"model directory {name!r} has no config.json; pass a directory written by save_pretrained "
                "or a Hugging Face model name."
            )
        return AutoConfig.from_pretrained(str(path)), str(path), True
    try:
        return AutoConfig.from_pretrained(name, local_files_only=True), name, True
    except (OSError, ValueError):
        pass
    from corpus_stats.text.hub import hub_reachable

    if not hub_reachable():
        raise ValueError(_offline_message(name))
    try:
        return AutoConfig.from_pretrained(name), name, False
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot load model {name!r} from the Hugging Face Hub: {str(exc).splitlines()[0]}") from None


def _offline_message(name: str) -> str:
    return (
        f"model {name!r} is neither a directory nor (completely) in the local Hugging Face cache, and the Hub "
        f"is unreachable (offline). On a networked machine run `huggingface-cli download {name}` (it fills "
        "~/.cache/huggingface, which you can copy here), or pass a directory written by save_pretrained."
    )


def _check_causal(name: str, config) -> None:
    arch = list(getattr(config, "architectures", None) or [])
    if getattr(config, "is_encoder_decoder", False) or (
        arch and not any(m in a for a in arch for m in _CAUSAL_MARKERS)
    ):
        raise ValueError(
            f"model {name!r} is not a causal (decoder-only) language model (architectures: "
            f"{', '.join(arch) or config.model_type}); L_n needs next-token predictions, e.g. gpt2 or a "
            "*ForCausalLM model."
        )


def max_positions(config) -> int | None:
    """Longest input a model's config allows (``n_positions`` / ``max_position_embeddings``), or None."""
    for key in ("n_positions", "max_position_embeddings", "n_ctx", "seq_length"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def model_tokenizer(name: str) -> str:
    """Tokenizer spec giving the model's own ids: its directory (holding ``tokenizer.json``) or its name."""
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "tokenizer.json").is_file():
            raise FileNotFoundError(
                f"model directory {name!r} has no tokenizer.json; save the model's (fast) tokenizer there with "
                "tokenizer.save_pretrained(directory), or pass the tokens as a TokenStream."
            )
        return str(path)
    return name


def load_model(model: Any, *, device: str = "auto", dtype: str = "auto") -> LoadedModel:
    """Load a Hugging Face causal LM (name or directory) or wrap a ready ``torch.nn.Module``.

    Parameters
    ----------
    model : str, path or torch.nn.Module
        A model name in the local Hugging Face cache (or on the Hub when reachable), a directory written
        by ``save_pretrained``, or a module whose ``forward(input_ids)`` returns logits (a tensor or an
        object with ``.logits``), such as :class:`corpus_stats.lm.MarkovLM`.
    device : {"auto", "cpu", "cuda", "mps"}, default "auto"
    dtype : {"auto", "float32", "float16", "bfloat16"}, default "auto"
        ``auto`` is half precision on GPUs, float32 on CPU (see :func:`resolve_dtype`). Modules without
        parameters (exact models) keep their own precision.

    Returns
    -------
    LoadedModel

    Raises
    ------
    ValueError
        Unknown model while offline (with how to fetch it), a model that is not causal.
    FileNotFoundError
        A directory without ``config.json``.
    """
    import torch

    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dev, dtype)
    if isinstance(model, torch.nn.Module):
        module, name, tokenizer = model, type(model).__name__, None
        config = getattr(module, "config", None)
    elif isinstance(model, (str, os.PathLike)):
        name = str(model)
        config, where, local = _load_config(name)
        _check_causal(name, config)
        from transformers import AutoModelForCausalLM

        try:
            with quiet_transformers():
                module = AutoModelForCausalLM.from_pretrained(where, local_files_only=local)
        except ValueError as exc:  # a config class with no causal-LM head
            raise ValueError(f"model {name!r} cannot be loaded as a causal language model: {exc}") from None
        except OSError:  # config cached, weights not
            raise ValueError(_offline_message(name)) from None
        tokenizer = model_tokenizer(where) if _is_local(name) else name
    else:
        raise TypeError(f"model must be a name, a directory or a torch.nn.Module; got {type(model).__name__}.")
    params = list(module.parameters())
    if params and any(p.is_floating_point() for p in params):
        module = module.to(device=dev, dtype=torch_dtype)
        used = str(torch_dtype).removeprefix("torch.")
    else:  # an exact model: its tables keep their precision
        module = module.to(device=dev)
        used = "exact"
    module.eval()
    vocab = getattr(config, "vocab_size", None)
    if vocab is None and hasattr(module, "get_output_embeddings") and module.get_output_embeddings() is not None:
        vocab = module.get_output_embeddings().weight.shape[0]
    return LoadedModel(
        module=module,
        name=name,
        device=dev,
        dtype=used,
        vocab_size=int(vocab),
        max_positions=max_positions(config) if config is not None else None,
        bos_id=getattr(config, "bos_token_id", None),
        tokenizer=tokenizer,
        n_parameters=sum(p.numel() for p in params),
    )


def gpt_config(preset: str, vocab_size: int, context: int, bos_id: int | None = None):
    """A ``transformers.GPT2Config`` of a preset size (see :data:`PRESETS`) for a vocabulary and context.

    Dropout is off: the models see each token about once, and determinism is simpler without it.
    """
    from transformers import GPT2Config

    if preset not in PRESETS:
        raise ValueError(f"model size must be one of {', '.join(PRESETS)}; got {preset!r}.")
    p = PRESETS[preset]
    return GPT2Config(
        vocab_size=int(vocab_size),
        n_positions=int(context),
        n_layer=p["n_layer"],
        n_head=p["n_head"],
        n_embd=p["n_embd"],
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=bos_id,
        eos_token_id=bos_id,
    )


def preset_parameters(preset: str, vocab_size: int, context: int) -> int:
    """Parameters of a preset GPT-2 (tied input/output embeddings): 12 L d² + 13 L d + (V + T + 2) d.

    Per layer: attention 4d² + 4d (qkv and projection), MLP 8d² + 5d, two layer norms 4d; plus token
    and position embeddings and the final layer norm.
    """
    if preset not in PRESETS:
        raise ValueError(f"model size must be one of {', '.join(PRESETS)}; got {preset!r}.")
    p = PRESETS[preset]
    layers, d = p["n_layer"], p["n_embd"]
    return layers * (12 * d * d + 13 * d) + (vocab_size + context + 2) * d
