"""Item-item recommender whose neighbour candidates come from MinHash LSH."""

import numbers
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from recsys.base import BaseRecommender
from recsys.hashing._jaccard import jaccard_pairs
from recsys.hashing._minhash_lsh import MinHashLSH


class LSHItemKNN(BaseRecommender):
    """Item kNN on Jaccard similarity of rater sets, with LSH instead of all pairs.

    MinHash LSH over each item's set of users proposes candidate pairs of
    items (those likely to have Jaccard similarity above ``threshold``); only
    those pairs get their exact Jaccard similarity computed, and each item
    keeps its ``k`` most similar candidates. A user's score for item j is
    ``sum_i x_ui * sim(j, i)``, as in ``recsys.neighbors.ItemKNN(similarity="jaccard")``,
    which this approximates: pairs LSH misses count as similarity 0.

    Parameters
    ----------
    threshold : float in (0, 1), default=0.2
        Jaccard similarity the LSH banding targets: lower finds more
        neighbours and costs more.
    n_perm : int, default=128
        MinHash signature length.
    k : int, default=100
        Neighbours kept per item.
    seed : int, default=1
        Seed of the MinHash permutations.

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix of shape (n_items, n_items)
        Row j holds item j's neighbours and their exact Jaccard similarities.
    n_candidate_pairs_ : int
        Item pairs LSH proposed (the exact model scores all pairs).
    n_items_ : int

    Notes
    -----
    ``save(path)`` / ``LSHItemKNN.load(path)`` keep ``similarity_`` as flat
    CSR arrays, without pickle.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.hashing import LSHItemKNN
    >>> X = sp.csr_matrix([[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1]])
    >>> model = LSHItemKNN(threshold=0.5, k=2).fit(X)
    >>> ids, scores = model.recommend(sp.csr_matrix([[1, 0, 0, 0]]), n=1)
    >>> ids
    array([[1]])
    """

    _parameter_constraints: ClassVar[dict] = {
        "threshold": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_perm": [Interval(numbers.Integral, 1, None, closed="left")],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "seed": [Interval(numbers.Integral, 0, 2**32 - 1, closed="both")],
    }

    def __init__(self, threshold=0.2, n_perm=128, k=100, seed=1):
        self.threshold = threshold
        self.n_perm = n_perm
        self.k = k
        self.seed = seed

    def _fit(self, X):
        raters = X.T.tocsr()
        raters.data[:] = 1
        index = MinHashLSH(threshold=self.threshold, n_perm=self.n_perm, seed=self.seed).fit(raters)
        first, second = index.candidate_pairs()
        first, second = first.astype(np.int64), second.astype(np.int64)
        self.n_candidate_pairs_ = len(first)
        similarity = jaccard_pairs(raters, raters, first, second)
        rows = np.concatenate([first, second])
        columns = np.concatenate([second, first])
        values = np.concatenate([similarity, similarity])
        positive = values > 0
        rows, columns, values = rows[positive], columns[positive], values[positive]
        # Keep each item's k best: sort by item, then similarity descending.
        order = np.lexsort((columns, -values, rows))
        rows, columns, values = rows[order], columns[order], values[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
        kept = rank < self.k
        self.similarity_ = sp.csr_matrix((values[kept], (rows[kept], columns[kept])),
                                         shape=(self.n_items_, self.n_items_))

    # save/load (BaseRecommender's) stores the sparse similarity_; load checks this shape.
    _fitted_shapes: ClassVar[dict] = {"similarity_": ("n_items_", "n_items_")}

    def _score(self, X):
        return np.asarray((X @ self.similarity_.T).todense())
