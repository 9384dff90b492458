"""Tokenizers: resolve a spec to a tokenizer and encode documents with it, batch by batch, into a stream.

Tokenizer specs:

* ``bpe:V`` (default ``bpe:8192``): a BPE tokenizer trained on the corpus exactly as the paper did
  (HF ``tokenizers`` BPE with ``[UNK]``, ``Whitespace`` pre-tokenizer, specials ``[UNK]`` = 0 and
  ``<eos>`` = 1, vocabulary V). Large corpora are trained on a bounded, evenly spread sample of
  documents (``bpe_sample_chars`` characters; stated in the provenance). Deterministic.
* a path to a ``tokenizer.json`` (or a directory holding one);
* a pretrained name (``gpt2``, ``meta-llama/Llama-2-7b-hf``): its ``tokenizer.json`` from the local
  Hugging Face cache, or from the Hub when it is reachable;
* ``bytes``: UTF-8 bytes (ids 0..255) plus ``<eos>`` = 256;
* ``chars``: one token per Unicode character; ``[UNK]`` = 0, ``<eos>`` = 1, then the corpus's characters
  sorted by code point.

Every document is followed by the end-of-text token (the tokenizer's own ``<eos>``,
``<|endoftext|>``, ``</s>`` or ``<|end_of_text|>``; ``<eos>`` is added when it has none), as the paper
did. Texts are encoded without the tokenizer's own BOS/post-processing (``add_special_tokens=False``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus_stats.progress import Progress, track
from corpus_stats.stream import TokenStream
from corpus_stats.stream_writer import TokenStreamWriter
from corpus_stats.text import cache
from corpus_stats.text.hub import hub_reachable
from corpus_stats.text.sources import Corpus

DEFAULT_TOKENIZER = "bpe:8192"
DEFAULT_BPE_SAMPLE_CHARS = 200_000_000
BPE_MIN_VOCAB, BPE_MAX_VOCAB = 260, 1 << 20
EOS_CANDIDATES = ("<eos>", "<|endoftext|>", "</s>", "<|end_of_text|>", "[EOS]", "<|eos|>")
TOKENIZER_FILE = "tokenizer.json"
_BATCH_CHARS, _BATCH_DOCS = 1 << 20, 4096
# Long documents are encoded in pieces cut after a newline that sits between two non-space
# characters, or (a single line) before a single space between two non-space characters: every
# pre-tokenizer regex used by BPE tokenizers (Whitespace, GPT-2/LLaMA-3 ByteLevel patterns, Metaspace)
# already splits there, so the ids are unchanged. Pieces are encoded a group of about _BATCH_CHARS
# at a time, so memory stays bounded however long a document is (an Encoding costs ~350 bytes per
# token) while the pieces of a group are encoded in parallel.
_PIECE_CHARS = 1 << 16
_SAFE_CUT = re.compile(r"\S\n(?=\S)|\S(?= \S)")


def cut_long_text(text: str) -> list[str]:
    """``text`` cut into pieces of about ``_PIECE_CHARS`` at safe boundaries (see above)."""
    if len(text) <= _PIECE_CHARS:
        return [text]
    pieces, start = [], 0
    while len(text) - start > _PIECE_CHARS:
        match = _SAFE_CUT.search(text, start + _PIECE_CHARS)
        if match is None:
            break
        pieces.append(text[start : match.end()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


@dataclass(frozen=True, eq=False)
class LoadedTokenizer:
    """A resolved tokenizer with a uniform interface (encode a batch of documents, decode ids).

    Attributes
    ----------
    spec, kind : str
        The spec as given and its kind (``bpe``, ``file``, ``pretrained``, ``bytes``, ``chars``).
    vocab_size, eos_id : int
        Number of ids (eos included) and the id appended after every document.
    eos_token : str
        Text of the eos token; ``eos_added`` says whether it was created here.
    info : dict
        Extra provenance (e.g. the BPE training sample).
    """

    spec: str
    kind: str
    vocab_size: int
    eos_id: int
    eos_token: str
    eos_added: bool = False
    info: dict = field(default_factory=dict)
    hf: object | None = None  # tokenizers.Tokenizer for bpe / file / pretrained
    alphabet: np.ndarray | None = None  # chars: sorted code points of ids 2, 3, ...

    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of all ``texts`` concatenated (no eos) and each text's number of tokens."""
        if self.kind == "bytes":
            parts = [t.encode("utf-8", "surrogatepass") for t in texts]
            return np.frombuffer(b"".join(parts), np.uint8), np.array([len(p) for p in parts], np.int64)
        if self.kind == "chars":
            cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), "<u4")
            idx = np.minimum(np.searchsorted(self.alphabet, cps), max(self.alphabet.size - 1, 0))
            ids = np.where(self.alphabet[idx] == cps, idx + 2, 0) if self.alphabet.size else np.zeros_like(cps)
            return ids, np.array([len(t) for t in texts], np.int64)
        pieces, owner = texts, np.arange(len(texts))
        if self.info.get("splittable") and any(len(t) > _PIECE_CHARS for t in texts):
            cut = [cut_long_text(t) for t in texts]
            pieces = [p for c in cut for p in c]
            owner = np.repeat(np.arange(len(texts)), [len(c) for c in cut])
        ids, lengths = [], np.zeros(len(texts), np.int64)
        chars = np.cumsum([len(p) for p in pieces])
        start = 0
        while start < len(pieces):  # groups of about _BATCH_CHARS: their Encodings are freed in turn
            stop = max(
                int(np.searchsorted(chars, chars[start] - len(pieces[start]) + _BATCH_CHARS, "right")), start + 1
            )
            encs = self.hf.encode_batch_fast(pieces[start:stop], add_special_tokens=False)
            n = np.array([len(e.ids) for e in encs], np.int64)
            ids.append(np.fromiter((i for e in encs for i in e.ids), np.int64, int(n.sum())))
            np.add.at(lengths, owner[start:stop], n)
            del encs
            start = stop
        return (np.concatenate(ids) if ids else np.zeros(0, np.int64)), lengths

    def decode(self, ids) -> str:
        """Text of ``ids`` (eos and unknown tokens dropped); exact for ``bytes``, ``chars``, byte-level BPE."""
        ids = np.asarray(ids, dtype=np.int64)
        ids = ids[ids != self.eos_id]
        if self.kind == "bytes":
            return bytes(ids.astype(np.uint8)).decode("utf-8", "replace")
        if self.kind == "chars":
            return "".join(chr(int(self.alphabet[i - 2])) for i in ids if i >= 2)
        return self.hf.decode(ids.tolist(), skip_special_tokens=False)

    def token_string(self, token_id: int) -> str:
        """Printable text of one token id."""
        if token_id == self.eos_id:
            return self.eos_token
        if self.kind == "bytes":
            return repr(bytes([token_id]))[2:-1]
        if self.kind == "chars":
            return "[UNK]" if token_id == 0 else chr(int(self.alphabet[token_id - 2]))
        return self.hf.id_to_token(int(token_id)) or f"<{token_id}>"

    def to_json(self) -> str:
        """Serialised form (HF tokenizer.json, or a small JSON for bytes/chars)."""
        if self.hf is not None:
            return self.hf.to_str()
        return json.dumps(
            {
                "corpus_stats_tokenizer": self.kind,
                "eos_id": self.eos_id,
                "alphabet": None if self.alphabet is None else self.alphabet.tolist(),
            }
        )

    @property
    def sha256(self) -> str:
        """Hash of :meth:`to_json`."""
        return cache.hash_bytes(self.to_json().encode("utf-8"))

    def provenance(self) -> dict:
        """JSON-safe description for the stream's provenance."""
        return {
            "spec": self.spec,
            "kind": self.kind,
            "vocab_size": self.vocab_size,
            "eos_id": self.eos_id,
            "eos_token": self.eos_token,
            "eos_added": self.eos_added,
            "sha256": self.sha256,
            "file": TOKENIZER_FILE,
            **self.info,
        }


# -- resolving specs ------------------------------------------------------------------------------


def load_tokenizer(
    spec: str = DEFAULT_TOKENIZER,
    corpus: Corpus | None = None,
    *,
    bpe_sample_chars: int = DEFAULT_BPE_SAMPLE_CHARS,
    progress: bool = False,
) -> LoadedTokenizer:
    """Resolve a tokenizer spec (see the module docstring); ``bpe:V`` and ``chars`` need ``corpus``.

    Parameters
    ----------
    spec : str, default "bpe:8192"
        ``bpe:V``, a tokenizer.json path, a pretrained name, ``bytes`` or ``chars``.
    corpus : Corpus or None
        The corpus that ``bpe:V`` is trained on and ``chars`` takes its alphabet from.
    bpe_sample_chars : int
        Most characters of text ``bpe:V`` trains on (documents spread evenly over the corpus).
    progress : bool, default False
        Progress on stderr while reading the corpus for ``bpe:V`` / ``chars``.

    Returns
    -------
    LoadedTokenizer

    Raises
    ------
    ValueError
        Unreadable file, V out of range, unknown name while offline, missing corpus.
    FileNotFoundError
        A tokenizer path that does not exist.

    Examples
    --------
    >>> tok = load_tokenizer("bytes")
    >>> tok.vocab_size, tok.eos_id
    (257, 256)
    """
    if not isinstance(spec, str) or not spec:
        raise TypeError(f"tokenizer must be a spec string such as 'bpe:8192'; got {spec!r}.")
    if spec == "bytes":
        return LoadedTokenizer("bytes", "bytes", 257, 256, "<eos>", eos_added=True)
    if spec == "chars":
        _need_corpus(spec, corpus)
        chars = set()
        for doc in track(corpus, "alphabet (documents)", enabled=progress):
            chars.update(doc)
        alphabet = np.array(sorted(ord(c) for c in chars), dtype=np.uint32)
        return LoadedTokenizer(
            "chars",
            "chars",
            int(alphabet.size) + 2,
            1,
            "<eos>",
            eos_added=True,
            alphabet=alphabet,
            info={"alphabet_size": int(alphabet.size)},
        )
    match = re.fullmatch(r"bpe:(.*)", spec)
    if match:
        vocab = _bpe_vocab(match.group(1), spec)
        _need_corpus(spec, corpus)
        return _train_bpe(spec, vocab, corpus, bpe_sample_chars, progress)
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / TOKENIZER_FILE).is_file():
            raise FileNotFoundError(
                f"tokenizer directory {spec!r} holds no {TOKENIZER_FILE}; pass a directory that does, or the "
                "file itself."
            )
        path = path / TOKENIZER_FILE
    if path.is_file():
        info = {"path": str(path), "file_sha256": cache.file_sha256(path, use_cache=False)}
        return _from_hf(spec, "file", _read_tokenizer_file(path), info)
    if spec.endswith(".json") or os.sep in spec and not re.fullmatch(r"[\w.-]+/[\w.-]+", spec):
        raise FileNotFoundError(f"tokenizer file {spec!r} does not exist.")
    path = _pretrained_file(spec)
    info = {"name": spec, "file_sha256": cache.file_sha256(path, use_cache=False)}
    return _from_hf(spec, "pretrained", _read_tokenizer_file(path), info)


def _need_corpus(spec: str, corpus) -> None:
    if corpus is None:
        raise ValueError(f"tokenizer {spec!r} is built from the corpus; pass corpus=.")


def _bpe_vocab(text: str, spec: str) -> int:
    try:
        vocab = int(text)
    except ValueError:
        raise ValueError(f"bpe:V needs an integer vocabulary size V, as in bpe:8192; got {spec!r}.") from None
    if not BPE_MIN_VOCAB <= vocab <= BPE_MAX_VOCAB:
        raise ValueError(
            f"bpe:V needs {BPE_MIN_VOCAB} <= V <= {BPE_MAX_VOCAB:,} (2 special tokens plus "
            f"at least a byte-sized alphabet); got V={vocab:,}."
        )
    return vocab


def _read_tokenizer_file(path: Path):
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on malformed files
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot read tokenizer file {path}: {reason}.") from None


def _pretrained_file(name: str) -> Path:
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(name, TOKENIZER_FILE, local_files_only=True))
    except Exception:
        pass  # not cached: try the Hub below
    if not hub_reachable():
        raise ValueError(
            f"tokenizer {name!r} is neither a file nor in the local Hugging Face cache, and the Hub is "
            f"unreachable (offline). On a networked machine run `huggingface-cli download {name} "
            f"{TOKENIZER_FILE}` (or Tokenizer.from_pretrained({name!r})), or pass a path to a {TOKENIZER_FILE}."
        )
    try:
        return Path(hf_hub_download(name, TOKENIZER_FILE))
    except Exception as exc:
        raise ValueError(
            f"cannot get {TOKENIZER_FILE} of {name!r} from the Hugging Face Hub: {str(exc).splitlines()[0][:200]}"
        ) from None


def _from_hf(spec: str, kind: str, hf, info: dict) -> LoadedTokenizer:
    for token in EOS_CANDIDATES:
        eos = hf.token_to_id(token)
        if eos is not None:
            added = False
            break
    else:
        token, added = "<eos>", True
        hf.add_special_tokens(["<eos>"])
        eos = hf.token_to_id(token)
    vocab = max(hf.get_vocab_size(with_added_tokens=True), eos + 1)
    # safe to encode long documents in pieces only when a pre-tokenizer splits at newlines and no
    # normalizer (e.g. SentencePiece's Prepend) depends on where a piece starts
    splittable = hf.pre_tokenizer is not None and hf.normalizer is None
    return LoadedTokenizer(
        spec,
        kind,
        vocab,
        eos,
        token,
        eos_added=added,
        info={**info, "splittable": splittable},
        hf=hf,
    )


def _train_bpe(spec: str, vocab: int, corpus: Corpus, sample_chars: int, progress: bool) -> LoadedTokenizer:
    from tokenizers import Tokenizer
    from tokenizers import __version__ as tk_version
    from tokenizers.models import BPE
    from tokenizers.pre_tokenizers import Whitespace
    from tokenizers.trainers import BpeTrainer

    total = corpus.total_bytes
    # spread the sample over the corpus, unless only a prefix of it is used (max_documents)
    prefix_only = corpus.options.get("max_documents") is not None
    stride = max(1, math.ceil(total / sample_chars)) if total and not prefix_only else 1
    sample = {
        "documents": 0,
        "characters": 0,
        "every_kth_document": stride,
        "limit_characters": sample_chars,
        "complete": True,
    }

    def batches() -> Iterator[list[str]]:
        batch: list[str] = []
        for i, doc in enumerate(track(corpus, f"train {spec} (documents read)", enabled=progress)):
            if i % stride:
                continue
            room = sample_chars - sample["characters"]
            if len(doc) > room:  # the limit falls inside this document: train on its start, stop
                sample["complete"] = False
                doc = doc[:room]
            sample["documents"] += 1
            sample["characters"] += len(doc)
            batch.append(doc)
            if not sample["complete"]:
                break
            if len(batch) == 1000:
                yield batch
                batch = []
        yield batch

    hf = Tokenizer(BPE(unk_token="[UNK]"))
    hf.pre_tokenizer = Whitespace()
    trainer = BpeTrainer(vocab_size=vocab, special_tokens=["[UNK]", "<eos>"], show_progress=False)
    hf.train_from_iterator(batches(), trainer)
    sample["complete"] = sample["complete"] and stride == 1
    info = {
        "bpe_requested_vocab": vocab,
        "bpe_training_sample": sample,
        "tokenizers_version": tk_version,
    }
    return _from_hf(spec, "bpe", hf, info)


def load_stream_tokenizer(stream: TokenStream) -> LoadedTokenizer | None:
    """The tokenizer saved next to a memory-mapped stream written by :func:`tokenize`, if any."""
    filename = getattr(stream.tokens, "filename", None)
    if filename is None or not (Path(filename).parent / TOKENIZER_FILE).is_file():
        return None
    text = (Path(filename).parent / TOKENIZER_FILE).read_text(encoding="utf-8")
    prov = stream.provenance.get("tokenizer", {})
    data = json.loads(text)
    if "corpus_stats_tokenizer" in data:
        alphabet = None if data["alphabet"] is None else np.array(data["alphabet"], np.uint32)
        return LoadedTokenizer(
            prov.get("spec", data["corpus_stats_tokenizer"]),
            data["corpus_stats_tokenizer"],
            stream.vocab_size,
            data["eos_id"],
            "<eos>",
            True,
            alphabet=alphabet,
        )
    from tokenizers import Tokenizer

    return LoadedTokenizer(
        prov.get("spec", "?"),
        prov.get("kind", "file"),
        stream.vocab_size,
        stream.eos_id,
        prov.get("eos_token", "<eos>"),
        prov.get("eos_added", False),
        hf=Tokenizer.from_str(text),
    )


def _batches(corpus: Corpus) -> Iterator[list[str]]:
    batch, chars = [], 0
    for doc in corpus:
        batch.append(doc)
        chars += len(doc)
        if chars >= _BATCH_CHARS or len(batch) >= _BATCH_DOCS:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def encode_into(writer: TokenStreamWriter, corpus: Corpus, tok: LoadedTokenizer, max_tokens, progress) -> bool:
    """Encode batch by batch, appending eos after every document; True when cut at ``max_tokens``."""
    with Progress("tokenize", corpus.total_bytes, enabled=progress) as bar:
        for batch in _batches(corpus):
            ids, lengths = tok.encode_batch(batch)
            doc_len = lengths + 1
            ends = np.cumsum(doc_len) - 1
            out = np.empty(int(doc_len.sum()), dtype=np.int64)
            body = np.ones(out.size, dtype=bool)
            body[ends] = False
            out[body] = ids
            out[ends] = tok.eos_id
            if max_tokens is not None and writer.n_tokens + out.size >= max_tokens:
                room = int(max_tokens) - writer.n_tokens
                full = int(np.searchsorted(ends, room - 1, side="right")) if room else 0
                kept = doc_len[:full].tolist()
                if room > sum(kept):
                    kept.append(room - sum(kept))
                writer.append_documents(out[:room], np.array(kept, np.int64))
                return room < out.size
            writer.append_documents(out, doc_len)
            bar.update(sum(len(d) for d in batch), note=f"{writer.n_tokens:,} tokens")
    return False
