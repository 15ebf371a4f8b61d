"""MinHash signatures of sets, bit-identical to datasketch."""

import itertools
import numbers
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from recsys.hashing._schemes import (
    SCHEMES,
    empty_value,
    hash_tokens,
    make_permutations,
    permute,
    signature_dtype,
)
from recsys.hashing._setmin import set_minimum
from recsys.utils import PersistenceMixin


def is_matrix_input(X):
    """Whether X is a matrix of sets (sparse, or a numeric array-like) rather than token sets."""
    if sp.issparse(X):
        return True
    if isinstance(X, (list, tuple)) or not hasattr(X, "__array__"):
        return False
    return np.asarray(X).dtype != object


def check_matrix_values(X, name="X", ensure_non_empty=False):
    """Return X as a CSR matrix after refusing what no set matrix can hold.

    Refused, each with its own error (the first sentence scikit-learn's, which
    its estimator checks match on): complex values, input that is not 2-d,
    NaN or infinite values, negative values and, with ``ensure_non_empty``,
    a matrix without rows or columns. Whether the values are 0 and 1 is left
    to :func:`check_set_matrix`.
    """
    if not sp.issparse(X):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(
                f"Expected 2D array, got {X.ndim}D array instead: {name} must be 2-dimensional "
                f"(sets x elements); got shape {X.shape}. Reshape your data: X.reshape(1, -1) "
                "for a single set."
            )
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}; a set matrix "
                         "holds 0 and 1.")
    if ensure_non_empty and 0 in X.shape:
        what = "sample(s)" if X.shape[0] == 0 else "feature(s)"
        raise ValueError(
            f"Found array with 0 {what} (shape={X.shape}) while a minimum of 1 is required: "
            f"{name} needs at least one set (row) over at least one element (column)."
        )
    X = sp.csr_matrix(X)
    X.sum_duplicates()
    X.eliminate_zeros()
    if X.nnz and not np.isfinite(X.data).all():
        raise ValueError(f"Input {name} contains NaN or infinite values; a set matrix holds 0 and "
                         "1: drop or binarise those entries first.")
    if X.nnz and X.data.min() < 0:
        raise ValueError(f"Negative values in data passed to {name} (min {X.data.min()!r}); a set "
                         "matrix holds 0 and 1: binarise it first, e.g. X = (X > 0).astype(np.int8).")
    return X



def set_input_tags(tags):
    """scikit-learn tags of an estimator taking sets: sparse matrices accepted, negatives refused."""
    tags.input_tags.sparse = True
    tags.input_tags.positive_only = True
    return tags

def check_set_matrix(X, name="X"):
    """Return X, a matrix whose rows are sets over its columns, as a binary CSR matrix."""
    X = check_matrix_values(X, name)
    if X.nnz and not np.all(X.data == 1):
        bad = X.data[X.data != 1][0]
        raise ValueError(
            f"{name} must be a binary matrix (1 = element in the set) but holds the value {bad!r}; "
            "binarise it first, e.g. X = (X > 0).astype(np.int8) or X.astype(bool)."
        )
    X.sort_indices()
    return X


def tokens_to_csr(X, vocabulary=None, name="X", deduplicate=True):
    """Encode an iterable of token sets as a binary CSR matrix over a vocabulary.

    Returns the matrix and the vocabulary (dict token -> column), extended in
    place with the tokens first seen here when one is given. ``str`` tokens
    are kept distinct from ``bytes`` ones here; hashing encodes ``str`` as
    UTF-8, so ``"a"`` and ``b"a"`` get the same hash value. With
    ``deduplicate=False`` a token repeated in a set stays repeated (harmless
    to a minimum, and it saves sorting every set).
    """
    vocabulary = {} if vocabulary is None else vocabulary
    sets = X if isinstance(X, (list, tuple)) else list(X)
    for position, tokens in enumerate(sets):
        if isinstance(tokens, (str, bytes)) or not hasattr(tokens, "__iter__"):
            raise TypeError(
                f"{name}[{position}] is a single {type(tokens).__name__}, not a set of tokens; "
                f"wrap it in a list ([{tokens!r}]) or split it into tokens first."
            )
    sets = [tokens if isinstance(tokens, (list, tuple)) else list(tokens) for tokens in sets]
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    flat = np.empty(int(lengths.sum()), dtype=object)
    flat[:] = list(itertools.chain.from_iterable(sets))
    # pandas' object hash table codes all tokens in one C loop (about 1.7x a
    # dict probe per token); only the distinct tokens then meet the vocabulary.
    try:
        first_seen_codes, distinct = pd.factorize(flat)
    except TypeError as error:
        raise TypeError(f"tokens in {name} must be hashable str or bytes: {error}") from None
    for token in distinct:
        vocabulary.setdefault(token, len(vocabulary))
    to_vocabulary = np.fromiter(map(vocabulary.__getitem__, distinct), dtype=np.int64,
                                count=len(distinct))
    codes = to_vocabulary[first_seen_codes]
    indptr = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    matrix = sp.csr_matrix((np.ones(len(codes), dtype=np.int8), codes, indptr),
                           shape=(len(sets), len(vocabulary)))
    if deduplicate:
        matrix.sum_duplicates()
        matrix.data[:] = 1
    return matrix, vocabulary


def token_bytes(tokens):
    encoded = []
    for token in tokens:
        if isinstance(token, str):
            encoded.append(token.encode("utf-8"))
        elif isinstance(token, (bytes, bytearray, memoryview)):
            encoded.append(bytes(token))
        else:
            raise TypeError(
                f"tokens must be str or bytes; got {type(token).__name__} ({token!r}). "
                "Convert them first, e.g. [str(t) for t in tokens], or pass a sparse matrix "
                "whose columns are the elements."
            )
    return encoded


def is_datasketch_sequence(X):
    """Whether X is a non-empty list or tuple of datasketch ``MinHash`` / ``LeanMinHash``."""
    return isinstance(X, (list, tuple)) and len(X) > 0 and hasattr(X[0], "hashvalues") \
        and hasattr(X[0], "seed")


def datasketch_signatures(minhashes, n_perm, seed, scheme):
    """The hash values of datasketch MinHashes as one array, after checking they fit."""
    for minhash in minhashes:
        found = (getattr(minhash, "seed", None), len(minhash.hashvalues),
                 getattr(minhash, "scheme", "legacy"))
        if found != (seed, n_perm, scheme):
            raise ValueError(
                f"a MinHash has seed={found[0]}, num_perm={found[1]}, scheme={found[2]!r} but "
                f"recsys hashes with seed={seed}, n_perm={n_perm}, scheme={scheme!r}; rebuild the "
                "MinHash or the recsys estimator with matching values."
            )
    return np.array([minhash.hashvalues for minhash in minhashes], dtype=signature_dtype(scheme))


def to_lean_minhashes(signatures, seed, scheme):
    """One ``datasketch.LeanMinHash`` per row of signatures (values shared, not recomputed)."""
    from datasketch import LeanMinHash

    return [LeanMinHash(seed=seed, hashvalues=row, scheme=scheme) for row in signatures]


class MinHasher(PersistenceMixin, TransformerMixin, BaseEstimator):
    """MinHash signatures of sets, equal value for value to datasketch's.

    Each row of the output estimates the Jaccard similarity of two sets as the
    share of positions where their signatures agree (see
    :func:`jaccard_from_signatures`).

    Parameters
    ----------
    n_perm : int, default=128
        Number of permutations (signature length).
    seed : int, default=1
        Seed of the permutations, as in ``datasketch.MinHash(seed=...)``.
    scheme : {"affine32", "affine64", "legacy"}, default="affine32"
        datasketch's permutation scheme: ``"affine32"`` is its default since
        2.0 (uint32 output), ``"affine64"`` its 64-bit variant and
        ``"legacy"`` the scheme of datasketch < 2.0 (both uint64 output).

    Attributes
    ----------
    permutations_ : ndarray of shape (2, n_perm)
        The (a, b) parameters of the permutations, datasketch's
        ``MinHash.permutations``.
    n_features_in_ : int
        Number of columns (elements) of the matrix given to ``fit``; only
        set when fit was given a matrix, whose width ``transform`` then
        requires of matrices.

    Notes
    -----
    Input is either

    - an iterable of iterables of ``str`` or ``bytes`` tokens: row i's
      signature equals ``datasketch.MinHash(num_perm=n_perm, seed=seed,
      scheme=scheme)`` updated with the tokens of set i (``str`` tokens
      encoded as UTF-8), so signatures can move between the libraries;
    - or a binary matrix (sparse or dense) whose rows are sets over its
      columns: column j is the token ``str(j).encode("ascii")``, a stable
      function of j alone, so the same column always gets the same hash
      whatever the matrix and ``transform(X)`` equals ``transform`` of the
      token lists ``[[str(j) for j in row] ...]``.

    - or a list of ``datasketch.MinHash`` / ``LeanMinHash`` with this
      ``n_perm``, ``seed`` and ``scheme`` (checked): their hash values are
      returned as they are. :meth:`to_datasketch` goes the other way.

    Each distinct token is hashed once; the per-set minimum runs in one
    compiled pass over all sets. An empty set's signature is the maximum
    value of the scheme in every position (datasketch's empty ``MinHash``);
    :func:`jaccard_from_signatures` gives it similarity 0 with every set.

    Examples
    --------
    >>> from recsys.hashing import MinHasher, jaccard_from_signatures
    >>> hasher = MinHasher(n_perm=64, seed=1)
    >>> signatures = hasher.fit_transform([["a", "b", "c"], ["a", "b", "d"]])
    >>> signatures.shape, signatures.dtype
    ((2, 64), dtype('uint32'))
    >>> float(jaccard_from_signatures(signatures[:1], signatures[1:])[0]) > 0
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_perm": [Interval(numbers.Integral, 1, None, closed="left")],
        "seed": [Interval(numbers.Integral, 0, 2**32 - 1, closed="both")],
        "scheme": [StrOptions(set(SCHEMES))],
    }

    def __init__(self, n_perm=128, seed=1, scheme="affine32"):
        self.n_perm = n_perm
        self.seed = seed
        self.scheme = scheme

    def fit(self, X=None, y=None):
        """Draw the permutations (MinHash needs no training).

        Parameters
        ----------
        X : matrix of shape (n_sets, n_elements), token sets or None, default=None
            A matrix is checked (non-empty, finite, non-negative; see
            :meth:`transform`) and its width kept as ``n_features_in_``;
            token sets and None are not looked at.
        y : ignored

        Returns
        -------
        self : object
        """
        self._validate_params()
        vars(self).pop("n_features_in_", None)  # a refit without a matrix must not keep a width
        if X is not None and not is_datasketch_sequence(X) and is_matrix_input(X):
            self.n_features_in_ = check_matrix_values(X, ensure_non_empty=True).shape[1]
        self.permutations_ = make_permutations(self.n_perm, self.seed, self.scheme)
        return self

    def transform(self, X):
        """Return the MinHash signatures of the sets in X.

        Parameters
        ----------
        X : sparse or dense binary matrix of shape (n_sets, n_elements), or iterable of iterables of str or bytes
            The sets (see Notes of the class).

        Returns
        -------
        signatures : ndarray of shape (n_sets, n_perm), uint32 or uint64
        """
        check_is_fitted(self)
        if is_datasketch_sequence(X):
            return datasketch_signatures(X, self.n_perm, self.seed, self.scheme)
        if is_matrix_input(X):
            X = X if sp.issparse(X) else np.asarray(X)
            width = X.shape[1] if X.ndim == 2 else None
            if hasattr(self, "n_features_in_") and width not in (None, self.n_features_in_):
                raise ValueError(
                    f"X has {width} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input: its columns must be the elements "
                    "of the matrix given to fit."
                )
            matrix = check_set_matrix(X)
            used = np.flatnonzero(np.bincount(matrix.indices, minlength=matrix.shape[1]))
            # Only the columns that occur are hashed; the rest never enter a minimum.
            column_values = np.zeros((matrix.shape[1], self.n_perm), dtype=signature_dtype(self.scheme))
            tokens = [str(j).encode("ascii") for j in used.tolist()]
            column_values[used] = permute(hash_tokens(tokens, self.scheme), self.permutations_, self.scheme)
        else:
            matrix, vocabulary = tokens_to_csr(X, deduplicate=False)
            # Sorted sets let the minimum read token values in cache-sized blocks.
            matrix.has_sorted_indices = False
            matrix.sort_indices()
            hashes = hash_tokens(token_bytes(vocabulary), self.scheme)
            column_values = permute(hashes, self.permutations_, self.scheme)
        return set_minimum(matrix.indptr, matrix.indices, column_values, empty_value(self.scheme))

    def fit_transform(self, X, y=None):
        """Fit, then return the signatures of X (see :meth:`transform`)."""
        return self.fit(X).transform(X)

    def to_datasketch(self, X):
        """The signatures of X as ``datasketch.LeanMinHash`` objects.

        Parameters
        ----------
        X : sets (see :meth:`transform`) or ndarray of shape (n_sets, n_perm)
            An unsigned-integer array is taken as signatures of this hasher.

        Returns
        -------
        minhashes : list of datasketch.LeanMinHash
            Equal (``==``) to the ``LeanMinHash`` of ``datasketch.MinHash(
            num_perm=n_perm, seed=seed, scheme=scheme)`` updated with the same
            tokens (datasketch never calls a ``MinHash`` and a ``LeanMinHash`` equal).

        Examples
        --------
        >>> import datasketch
        >>> from recsys.hashing import MinHasher
        >>> hasher = MinHasher(n_perm=32).fit()
        >>> theirs = datasketch.MinHash(num_perm=32)
        >>> theirs.update_batch([b"a", b"b"])
        >>> hasher.to_datasketch([["a", "b"]])[0] == datasketch.LeanMinHash(theirs)
        True
        """
        check_is_fitted(self)
        if isinstance(X, np.ndarray) and X.dtype.kind == "u":
            if X.ndim != 2 or X.shape[1] != self.n_perm or X.dtype != signature_dtype(self.scheme):
                raise ValueError(
                    f"signatures of shape {X.shape} and dtype {X.dtype} are not this hasher's "
                    f"({self.n_perm} columns of {signature_dtype(self.scheme)})."
                )
            signatures = X
        else:
            signatures = self.transform(X)
        return to_lean_minhashes(signatures, self.seed, self.scheme)

    def __sklearn_tags__(self):
        tags = set_input_tags(super().__sklearn_tags__())
        tags.requires_fit = True
        return tags
