"""RP3beta: item-item random walks with popularity penalisation."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval

from recsys.base import BaseRecommender
from recsys.neighbors._similarity import top_k_product


class RP3beta(BaseRecommender):
    """Three-step random walk item-item recommender (Paudel et al. 2017).

    As in the code of Dacrema et al. 2019: ``P_ui`` is the users x items
    matrix row-normalised (transition user -> item), ``P_iu`` the binarised
    items x users matrix row-normalised (item -> user); both are raised
    element-wise to ``alpha``. The item-item weight is
    ``W[i, j] = (P_iu @ P_ui)[i, j] / popularity_j ** beta``, with an empty
    diagonal, keeping the ``k`` largest weights of each row i. A user's score
    for item j is ``sum_i x_ui * W[i, j]``.

    Parameters
    ----------
    alpha : float >= 0, default=1.0
        Exponent of the transition probabilities (1 is the plain random walk).
    beta : float >= 0, default=0.5
        Popularity penalisation of the target item (0 is P3alpha).
    k : int, default=100
        Weights kept per item; clamped to ``n_items - 1``.
    normalize_rows : bool, default=False
        Rescale each row of W to sum to 1 after the top-k cut, as the
        reference code does.

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix of shape (n_items, n_items)
        W; an item nobody interacted with has an empty row and column.
    n_items_ : int

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.neighbors import RP3beta
    >>> X = sp.csr_matrix([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1]])
    >>> RP3beta(k=2).fit(X).recommend(sp.csr_matrix([[1, 0, 0, 0]]), n=2)[0]
    array([[1, 2]])
    """

    _fitted_shapes: ClassVar[dict] = {"similarity_": ("n_items_", "n_items_")}
    _parameter_constraints: ClassVar[dict] = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "normalize_rows": ["boolean"],
    }

    def __init__(self, alpha=1.0, beta=0.5, k=100, normalize_rows=False):
        self.alpha = alpha
        self.beta = beta
        self.k = k
        self.normalize_rows = normalize_rows

    def _fit(self, X):
        user_to_item = normalize(X.astype(np.float64), norm="l1", axis=1)
        item_users = X.T.tocsr().astype(np.float64)
        item_users.data[:] = 1.0
        item_to_user = normalize(item_users, norm="l1", axis=1)
        user_to_item.data **= self.alpha
        item_to_user.data **= self.alpha
        popularity = np.diff(item_users.indptr).astype(np.float64)
        penalty = np.zeros_like(popularity)
        seen = popularity > 0
        penalty[seen] = popularity[seen] ** -self.beta

        def penalise(block, rows, columns):
            block *= penalty[columns][None, :]
            return block

        similarity = top_k_product(item_to_user, user_to_item, self.k,
                                   transform_block=penalise, exclude_diagonal=True)
        if self.normalize_rows:
            similarity = normalize(similarity, norm="l1", axis=1)
        self.similarity_ = similarity

    def _score(self, X):
        return (X @ self.similarity_).toarray()
