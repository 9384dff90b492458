"""A corpus as a stream of words, as the tokenizer's pre-tokenizer splits it.

A word that spans several BPE tokens is still one word here: the text is cut by the tokenizer's
pre-tokenizer (``Whitespace`` for ``bpe:V``, which is what the paper's BPE trains on; the file's own
pre-tokenizer for a ``tokenizer.json`` or a pretrained name), then every distinct piece becomes one word id
(a HF ``WordLevel`` model trained on the corpus, so splitting and counting run in Rust). Byte-level and
SentencePiece markers (``Ġ``, ``▁``) are removed, so ``ĠJanuary`` and ``January`` are one word.

Sentences end after a word made only of punctuation that holds ``.``, ``!`` or ``?``, and at document ends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

_END = re.compile(r"^[^\w\s]*[.!?][^\w\s]*$")
_BATCH_CHARS = 1 << 20


@dataclass(frozen=True, eq=False)
class WordStream:
    """Word ids of a corpus with document and sentence boundaries.

    Attributes
    ----------
    ids : numpy.ndarray of int32
        Word id per position; ids are frequency ranks (0 = most frequent word).
    words : list of str
        The word of each id.
    counts : numpy.ndarray of int64
        Occurrences of each id.
    doc_id, sentence_id : numpy.ndarray of int32
        Document and sentence index of each position (sentences never cross documents).
    info : dict
        Pre-tokenizer used, lowercasing, notes.
    """

    ids: np.ndarray
    words: list
    counts: np.ndarray
    doc_id: np.ndarray
    sentence_id: np.ndarray
    info: dict = field(default_factory=dict)

    def id_of(self, word: str) -> int:
        """Id of ``word``, or -1 if it never occurs."""
        return self._index.get(word, -1)

    @property
    def _index(self) -> dict:
        index = self.__dict__.get("_index_cache")
        if index is None:
            index = {w: i for i, w in enumerate(self.words)}
            object.__setattr__(self, "_index_cache", index)
        return index


def pre_tokenizer_for(spec: str):
    """The HF pre-tokenizer that the tokenizer ``spec`` applies, and a note on where it came from."""
    from tokenizers.pre_tokenizers import Whitespace

    if spec.startswith("bpe:"):
        return Whitespace(), "Whitespace (the pre-tokenizer of the bpe:V tokenizers)"
    if spec in ("bytes", "chars"):
        return Whitespace(), f"Whitespace ({spec} tokens have no words; words split at spaces and punctuation)"
    from corpus_stats.text.tokenizers import load_tokenizer

    hf = load_tokenizer(spec).hf
    if hf.pre_tokenizer is None:
        return Whitespace(), f"Whitespace ({spec} has no pre-tokenizer, e.g. SentencePiece)"
    return hf.pre_tokenizer, f"{spec}'s own pre-tokenizer"


def _clean(words: list[str]) -> list[str]:
    """Readable words: byte-level pieces decoded to text, SentencePiece and GPT-2 space markers removed."""
    from tokenizers.decoders import ByteLevel

    dec = ByteLevel()
    out = []
    for w in words:
        if "Ġ" in w or "Ċ" in w or any(0x100 <= ord(c) <= 0x143 for c in w):
            w = dec.decode([w])
        out.append(w.replace("▁", " ").strip())
    return out


def _pieces(corpus):
    """Documents, long ones cut at safe newlines, with their document index (batches of ~1 MB)."""
    from corpus_stats.text.tokenizers import cut_long_text

    batch, owner, size = [], [], 0
    for d, doc in enumerate(corpus):
        for piece in cut_long_text(doc):
            batch.append(piece)
            owner.append(d)
            size += len(piece)
        if size >= _BATCH_CHARS:
            yield batch, owner
            batch, owner, size = [], [], 0
    if batch:
        yield batch, owner


def sentence_ids(word_ids: np.ndarray, doc_id: np.ndarray, words: list) -> np.ndarray:
    """Sentence index of each position: a sentence ends after an end-punctuation word and at a document end."""
    ends = np.array([bool(_END.match(w)) for w in words])
    new_sentence = np.ones(word_ids.size, dtype=bool)
    new_sentence[1:] = ends[word_ids[:-1]] | (doc_id[1:] != doc_id[:-1])
    return (np.cumsum(new_sentence) - 1).astype(np.int32)


def word_stream(
    corpus,
    tokenizer: str = "bpe:8192",
    *,
    lowercase: bool = False,
    max_words: int | None = None,
    cache_dir=None,
    use_cache: bool = True,
):
    """Split a corpus into words with the pre-tokenizer of ``tokenizer`` and number them by frequency.

    Parameters
    ----------
    corpus : Corpus
        Documents (:func:`corpus_stats.read_corpus`).
    tokenizer : str, default "bpe:8192"
        Tokenizer spec whose pre-tokenizer defines the words.
    lowercase : bool, default False
        Fold case before splitting ("May" and "may" become one word).
    max_words : int, optional
        Keep only the first ``max_words`` words.
    cache_dir : path, optional
        Cache directory (default: see :mod:`corpus_stats.text.cache`).
    use_cache : bool, default True
        Reuse the words of an earlier run on the same content and splitter, and keep these for the next
        (:mod:`corpus_stats.geometry.word_cache`); ``info["cache"]`` says whether they came from it.

    Returns
    -------
    WordStream

    Raises
    ------
    ValueError
        If the corpus holds no words.
    """
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.normalizers import Lowercase
    from tokenizers.trainers import WordLevelTrainer

    pre, note = pre_tokenizer_for(tokenizer)
    hf = Tokenizer(WordLevel(unk_token="[UNK]"))
    hf.pre_tokenizer = pre
    if lowercase:
        hf.normalizer = Lowercase()
    entry = None
    if use_cache:
        from corpus_stats.geometry import word_cache

        splitter = {"tokenizer": json.loads(hf.to_str()), "note": note}
        entry = word_cache.entry_path(corpus.hashed(cache_dir), splitter, max_words, cache_dir)
        cached = word_cache.load(entry)
        if cached is not None:
            ids, words, counts, doc_id, info = cached
            return WordStream(ids, words, counts, doc_id, sentence_ids(ids, doc_id, words), info)
    trainer = WordLevelTrainer(vocab_size=1 << 30, min_frequency=1, special_tokens=["[UNK]"], show_progress=False)
    hf.train_from_iterator((b for b, _ in _pieces(corpus)), trainer)
    vocab = hf.get_vocab()
    raw = [""] * len(vocab)
    for w, i in vocab.items():
        raw[i] = w
    ids, docs, n = [], [], 0
    for batch, owner in _pieces(corpus):
        encs = hf.encode_batch_fast(batch, add_special_tokens=False)
        lengths = np.array([len(e.ids) for e in encs], np.int64)
        ids.append(np.fromiter((i for e in encs for i in e.ids), np.int64, int(lengths.sum())))
        docs.append(np.repeat(np.asarray(owner, np.int64), lengths))
        n += int(lengths.sum())
        if max_words is not None and n >= max_words:
            break
    raw_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    doc_id = np.concatenate(docs) if docs else np.zeros(0, np.int64)
    if max_words is not None:
        raw_ids, doc_id = raw_ids[:max_words], doc_id[:max_words]
    if raw_ids.size == 0:
        raise ValueError("the corpus holds no words (every document is empty or whitespace).")
    # merge pieces that read the same once markers are removed, then number by frequency
    cleaned = _clean(raw)
    uniq, merged = np.unique(np.array(cleaned, dtype=object), return_inverse=True)
    counts = np.bincount(merged[raw_ids], minlength=uniq.size)
    order = np.lexsort((np.arange(uniq.size), -counts))  # by count, ties by word
    rank = np.empty(uniq.size, np.int64)
    rank[order] = np.arange(uniq.size)
    word_ids = rank[merged[raw_ids]].astype(np.int32)
    words = [str(w) for w in uniq[order]]
    sentence_id = sentence_ids(word_ids, doc_id, words)
    info = {"pre_tokenizer": note, "lowercase": bool(lowercase), "n_words": int(word_ids.size)}
    info["n_documents"], info["n_sentences"] = int(doc_id[-1]) + 1, int(sentence_id[-1]) + 1
    info["pre_tokenizer_json"] = json.loads(hf.to_str()).get("pre_tokenizer")
    if entry is not None:
        info["cache"] = {"hit": False, "path": str(entry)}
    ws = WordStream(word_ids, words, counts[order].astype(np.int64), doc_id.astype(np.int32), sentence_id, info)
    if entry is not None:
        word_cache.save(ws, entry)
    return ws
