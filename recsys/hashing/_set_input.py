"""Turning what MinHash indexes accept into signatures (and sets for exact Jaccard).

An index takes, consistently across ``fit`` and queries, one of:

- sets: a binary matrix (sparse or dense, non-unsigned dtype) or an iterable
  of token iterables, hashed by the index's own :class:`MinHasher`;
- signatures: a 2-d unsigned-integer array from a ``MinHasher`` with the
  index's ``n_perm`` and ``scheme`` (its seed cannot be checked: a plain array
  does not carry it), or a sequence of ``datasketch.MinHash``, whose
  ``seed``, ``num_perm`` and ``scheme`` are checked.
"""

import itertools

import numpy as np
import scipy.sparse as sp

from recsys.hashing._minhash import (
    MinHasher,
    check_set_matrix,
    datasketch_signatures,
    is_datasketch_sequence,
    token_bytes,
    tokens_to_csr,
)
from recsys.hashing._schemes import empty_value, hash_tokens, permute, signature_dtype
from recsys.hashing._setmin import set_minimum


class SetEncoder:
    """Hashes an index's input, remembering the kind of input and the token vocabulary."""

    def __init__(self, n_perm, seed, scheme):
        self.hasher = MinHasher(n_perm=n_perm, seed=seed, scheme=scheme).fit()
        self.kind = None
        self.n_columns = None
        self.vocabulary = {}
        self._column_values = np.empty((0, n_perm), dtype=signature_dtype(scheme))

    def _kind_of(self, X):
        if is_datasketch_sequence(X):
            return "signatures"
        if isinstance(X, np.ndarray) and X.dtype.kind == "u":
            return "signatures"
        if sp.issparse(X) or (isinstance(X, np.ndarray) and X.dtype != object):
            return "matrix"
        return "tokens"

    def _check_signature_array(self, X):
        hasher = self.hasher
        if X.ndim != 2 or X.shape[1] != hasher.n_perm or X.dtype != signature_dtype(hasher.scheme):
            raise ValueError(
                f"signatures of shape {X.shape} and dtype {X.dtype} do not fit this index "
                f"(n_perm={hasher.n_perm}, scheme={hasher.scheme!r}: {hasher.n_perm} columns of "
                f"{signature_dtype(hasher.scheme)}); hash with MinHasher(n_perm={hasher.n_perm}, "
                f"seed={hasher.seed}, scheme={hasher.scheme!r})."
            )
        return X

    def encode(self, X, fitting=False):
        """Return (signatures, sets): sets is a binary CSR matrix, or None for signature input."""
        kind = self._kind_of(X)
        if fitting and self.kind is None:
            self.kind = kind
        elif kind != self.kind:
            raise ValueError(
                f"the index was fitted on {self.kind} but got {kind}; pass the same kind of input "
                "(a binary matrix, token sets, or signatures) to fit, partial_fit and queries."
            )
        if kind == "signatures":
            if is_datasketch_sequence(X):
                hasher = self.hasher
                return datasketch_signatures(X, hasher.n_perm, hasher.seed, hasher.scheme), None
            return self._check_signature_array(X), None
        if kind == "matrix":
            sets = check_set_matrix(X)
            if self.n_columns is None:
                self.n_columns = sets.shape[1]
            elif sets.shape[1] != self.n_columns:
                raise ValueError(
                    f"X has {sets.shape[1]} columns but the index holds sets over {self.n_columns} "
                    "elements; use the same columns as in fit."
                )
            return self.hasher.transform(sets), sets
        sets, _ = tokens_to_csr(X, self.vocabulary)
        self._hash_new_tokens()
        signatures = set_minimum(sets.indptr, sets.indices, self._column_values,
                                 empty_value(self.hasher.scheme))
        return signatures, sets

    def state(self, with_vocabulary):
        """What to save of the encoder; the token vocabulary only matters to stored sets."""
        from recsys.hashing._persistence import vocabulary_state

        return {"encoder_kind_": self.kind, "encoder_n_columns_": self.n_columns,
                "encoder_vocabulary_": vocabulary_state(self.vocabulary) if with_vocabulary else []}

    @classmethod
    def from_state(cls, n_perm, seed, scheme, state):
        from recsys.hashing._persistence import vocabulary_from_state

        encoder = cls(n_perm, seed, scheme)
        kind = state["encoder_kind_"]
        if kind not in (None, "signatures", "matrix", "tokens"):
            raise ValueError(f"the saved input kind {kind!r} is not one recsys writes; "
                             "the file is damaged.")
        encoder.kind, encoder.n_columns = kind, state["encoder_n_columns_"]
        encoder.vocabulary = vocabulary_from_state(state["encoder_vocabulary_"])
        encoder._hash_new_tokens()
        return encoder

    def _hash_new_tokens(self):
        # The vocabulary only grows, so only its tail needs hashing.
        new_tokens = list(itertools.islice(self.vocabulary, len(self._column_values), None))
        if new_tokens:
            values = permute(hash_tokens(token_bytes(new_tokens), self.hasher.scheme),
                             self.hasher.permutations_, self.hasher.scheme)
            self._column_values = np.concatenate([self._column_values, values])


def resize_columns(sets, n_columns):
    """The CSR matrix ``sets`` with n_columns columns (growing token vocabularies)."""
    return sp.csr_matrix((sets.data, sets.indices, sets.indptr), shape=(sets.shape[0], n_columns))
