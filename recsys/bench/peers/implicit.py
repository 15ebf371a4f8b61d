"""The ``implicit`` library's ALS, BPR and LMF, called directly, as recsys-bench peers.

Each adapter takes the parameters of the recsys model of the same name and
fits implicit's CPU model on the training matrix as implicit's own users do:
a float32 CSR matrix, one BLAS thread, no recsys validation. ``recommend``
uses implicit's own ranking:

- ALS folds the rows in with implicit's ``recommend(..., recalculate_user=True)``;
- implicit's BPR and LMF cannot fold in a new user (``recalculate_user``
  raises NotImplementedError), so their adapters fold in with recsys'
  documented ridge solve (``BPR.fold_in``, ``LMF.fold_in``) and rank with
  implicit's ``topk``. Their fit is implicit's, thread count included (one
  thread when seeded, like recsys' models).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from recsys.bench import register_model
from recsys.factorization import ALS, BPR, LMF
from recsys.factorization._implicit_common import limit_blas_threads

# implicit's topk marks filtered places with the lowest float32.
_FILTERED_SCORE = -np.finfo(np.float32).max


def _pad_ranking(ids, scores, n):
    """implicit's (ids, scores) as recsys returns them: -1 / -inf where nothing is left."""
    ids = np.asarray(ids, dtype=np.int64).reshape(len(ids), -1)
    scores = np.asarray(scores, dtype=np.float64).reshape(len(ids), -1)
    missing = scores <= _FILTERED_SCORE
    ids[missing], scores[missing] = -1, -np.inf
    width = ids.shape[1]
    if width < n:
        ids = np.hstack([ids, np.full((len(ids), n - width), -1, dtype=np.int64)])
        scores = np.hstack([scores, np.full((len(scores), n - width), -np.inf)])
    return ids, scores


class _ImplicitPeerMixin:
    """fit/recommend straight through implicit, for a recsys factor model subclass."""

    #: implicit's model supports recalculate_user (fold-in) itself
    implicit_folds_in = False

    def fit(self, X, y=None):
        X = sp.csr_matrix(X, dtype=np.float32)
        with limit_blas_threads():
            self.implicit_model_ = self._make_implicit_model()
            self.implicit_model_.fit(X, show_progress=False)
        self.n_items_ = X.shape[1]
        self.user_factors_ = self.implicit_model_.user_factors
        self.item_factors_ = self.implicit_model_.item_factors
        return self

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        check_is_fitted(self)
        X = sp.csr_matrix(X, dtype=np.float32)
        width = min(n, self.n_items_ if items is None else len(items))
        with limit_blas_threads():
            if self.implicit_folds_in:
                ids, scores = self.implicit_model_.recommend(
                    np.arange(X.shape[0]), X, N=width, filter_already_liked_items=exclude_seen,
                    recalculate_user=True, items=items,
                )
            else:
                from implicit.cpu.topk import topk

                excluded = None
                if items is not None:
                    excluded = np.setdiff1d(np.arange(self.n_items_), items).astype(np.int32)
                ids, scores = topk(
                    self.implicit_model_.item_factors, self.fold_in(X), width,
                    filter_query_items=X if exclude_seen else None, filter_items=excluded,
                )
        return _pad_ranking(ids, scores, n)


class ImplicitALS(_ImplicitPeerMixin, ALS):
    """implicit's AlternatingLeastSquares with its own fold-in (recalculate_user=True)."""

    implicit_folds_in = True


class ImplicitBPR(_ImplicitPeerMixin, BPR):
    """implicit's BayesianPersonalizedRanking; fold-in by recsys' ridge solve."""


class ImplicitLMF(_ImplicitPeerMixin, LMF):
    """implicit's LogisticMatrixFactorization; fold-in by recsys' ridge solve."""


register_model("implicit-als", ImplicitALS, task="topn", requires=("implicit",), peer="implicit",
               default_params={"random_state": 0},
               description="implicit's AlternatingLeastSquares, recalculate_user fold-in")
register_model("implicit-bpr", ImplicitBPR, task="topn", requires=("implicit",), peer="implicit",
               default_params={"random_state": 0},
               description="implicit's BayesianPersonalizedRanking, ridge fold-in")
register_model("implicit-lmf", ImplicitLMF, task="topn", requires=("implicit",), peer="implicit",
               default_params={"random_state": 0},
               description="implicit's LogisticMatrixFactorization, ridge fold-in")
