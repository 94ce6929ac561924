"""Captions for a text-like label modality, and a tiny word tokenizer.

The ConFu AV-MNIST experiment (arXiv 2511.21331) adds a third modality, a
caption "an image of a {digit}", so that audio + image → caption retrieval
is zero-shot classification. :class:`WordTokenizer` splits lower-cased text
on anything but letters and digits and maps words to ids of a fixed
vocabulary (id 0 pads, id 1 is an unknown word); no downloads.

Tokens are given to models as one-hot vectors ``[T, V]``: the ``transformer``
encoder's input projection on a one-hot token is a learned token embedding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

PAD, UNKNOWN = "<pad>", "<unk>"
CAPTION_TEMPLATE = "an image of a {digit}"
WORD = re.compile(r"[a-z0-9]+")


class WordTokenizer:
    """Words → ids over a fixed vocabulary (``<pad>`` = 0, ``<unk>`` = 1, then ``words`` in order)."""

    def __init__(self, words: Sequence[str]) -> None:
        self.vocabulary = (PAD, UNKNOWN, *dict.fromkeys(words))
        self.ids = {word: i for i, word in enumerate(self.vocabulary)}

    def __len__(self) -> int:
        return len(self.vocabulary)

    @staticmethod
    def words(text: str) -> list[str]:
        return WORD.findall(text.lower())

    def encode(self, texts: Sequence[str], length: int) -> np.ndarray:
        """Token ids ``[len(texts), length]`` (int64), cut or padded with ``<pad>``."""
        out = np.zeros((len(texts), length), dtype=np.int64)
        for row, text in zip(out, texts, strict=True):
            ids = [self.ids.get(word, self.ids[UNKNOWN]) for word in self.words(text)][:length]
            row[: len(ids)] = ids
        return out

    def one_hot(self, ids: np.ndarray) -> np.ndarray:
        """``[..., T]`` ids → ``[..., T, V]`` float32 one-hot vectors."""
        return np.eye(len(self), dtype=np.float32)[ids]


def digit_captions(digits: np.ndarray) -> tuple[WordTokenizer, np.ndarray]:
    """The tokenizer of the caption vocabulary and one-hot captions ``[N, T, V]`` of ``digits``."""
    tokenizer = WordTokenizer(WordTokenizer.words(CAPTION_TEMPLATE.format(digit="")) + [str(d) for d in range(10)])
    length = len(WordTokenizer.words(CAPTION_TEMPLATE.format(digit=0)))
    table = tokenizer.encode([CAPTION_TEMPLATE.format(digit=d) for d in range(10)], length)
    return tokenizer, tokenizer.one_hot(table[digits])
