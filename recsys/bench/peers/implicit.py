"""The ``implicit`` library's ALS, BPR and LMF, called directly, as recsys-bench peers.

Each adapter takes the parameters of the recsys model of the same name and
fits implicit's CPU model on the training matrix as implicit's own users do:
a float32 CSR matrix, one BLAS thread, no recsys validation. ``recommend``
uses implicit's own ranking:

- ALS folds the rows in with implicit's ``recommend(..., recalculate_user=True)``;
- implicit's BPR and LMF cannot fold in a new user (``recalculate_user``
  raises NotImplementedError), so their adapters fold in as recsys does
  (``BPR.fold_in``: BPR's SGD on the user alone; ``LMF.fold_in``: a ridge
  solve) and rank with implicit's ``topk``. Their fit is implicit's, thread count included (one
  thread when seeded, like recsys' models).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from recsys.factorization import ALS, BPR, LMF
from recsys.utils import limit_blas_threads, pad_ranking


class _ImplicitPeerMixin:
    """fit straight through implicit, for a recsys factor model subclass.

    ``recommend`` stays the recsys model's (``_fold_in``, then implicit's topk)
    unless the adapter overrides it.
    """

    def fit(self, X, y=None):
        X = sp.csr_matrix(X, dtype=np.float32)
        with limit_blas_threads():
            self.implicit_model_ = self._make_implicit_model()
            self.implicit_model_.fit(X, show_progress=False)
        self.n_items_ = X.shape[1]
        self.user_factors_ = self.implicit_model_.user_factors
        self.item_factors_ = self.implicit_model_.item_factors
        return self


class ImplicitALS(_ImplicitPeerMixin, ALS):
    """implicit's AlternatingLeastSquares with its own fold-in (recalculate_user=True)."""

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        check_is_fitted(self)
        X = sp.csr_matrix(X, dtype=np.float32)
        width = min(n, self.n_items_ if items is None else len(items))
        with limit_blas_threads():
            ids, scores = self.implicit_model_.recommend(
                np.arange(X.shape[0]), X, N=width, filter_already_liked_items=exclude_seen,
                recalculate_user=True, items=items,
            )
        return pad_ranking(ids, scores, n)


class ImplicitBPR(_ImplicitPeerMixin, BPR):
    """implicit's BayesianPersonalizedRanking; fold-in by recsys' BPR SGD on the user alone."""


class ImplicitLMF(_ImplicitPeerMixin, LMF):
    """implicit's LogisticMatrixFactorization; fold-in by recsys' ridge solve."""
