"""Pieces shared by the explicit-feedback rating predictors."""

from typing import ClassVar

import numpy as np

from recsys.base import BaseRatingPredictor, DegenerateFitError
from recsys.utils._renamed_params import RenamedParamsMixin

# An SGD epoch whose training RMSE exceeds the first epoch's by this factor is
# diverging: every step overshoots and the next NaN is a few epochs away.
_EXPLODING_RMSE_FACTOR = 10.0


def group_by_row(rows, n_rows):
    """Return (indptr, order): ``order[indptr[r]:indptr[r + 1]]`` are the samples of row r.

    Unlike a scipy CSR conversion it keeps duplicate (row, column) samples
    apart, as the SGD and ALS updates treat every rating on its own.
    """
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr, order


def predict_biased_dot(users, items, global_mean, user_bias, item_bias, user_vectors, item_vectors,
                       biased=True):
    """``mu + b_u + b_i + <p_u, q_i>``, dropping each term whose id is unknown (-1).

    The dot product needs both ids; a bias needs only its own. So an unknown
    user gets ``mu + b_i``, an unknown item ``mu + b_u``. An unbiased model
    predicts ``<p_u, q_i>`` alone and ``mu`` for any pair with an unknown id.
    """
    known_user, known_item = users >= 0, items >= 0
    safe_users, safe_items = np.maximum(users, 0), np.maximum(items, 0)
    both = known_user & known_item
    dot = np.einsum("ij,ij->i", user_vectors[safe_users[both]], item_vectors[safe_items[both]])
    if not biased:
        predictions = np.full(len(users), float(global_mean))
        predictions[both] = dot
        return predictions
    predictions = np.full(len(users), float(global_mean))
    predictions += np.where(known_user, user_bias[safe_users], 0.0)
    predictions += np.where(known_item, item_bias[safe_items], 0.0)
    predictions[both] += dot
    return predictions


def check_sgd_not_diverging(model, epoch_rmses):
    """Raise DegenerateFitError once an SGD fit's training RMSE is NaN, inf or exploding.

    ``epoch_rmses`` are the training RMSEs of the epochs so far. Called after
    every epoch, so a diverging fit stops at once with the fix instead of
    running on to NaN factors.
    """
    first, latest = epoch_rmses[0], epoch_rmses[-1]
    if np.isfinite(latest) and latest <= _EXPLODING_RMSE_FACTOR * first:
        return
    raise DegenerateFitError(
        f"{type(model).__name__} diverged in epoch {len(epoch_rmses)} of SGD: its training RMSE went "
        f"from {first:.4g} to {latest:.4g}. The SGD steps grow with the ratings (here from "
        f"{model.rating_min_:g} to {model.rating_max_:g}), and lr={model.lr:g} is too large for "
        "them: divide the ratings by a constant before fitting (e.g. to a 1-5 scale, multiplying "
        "the predictions back) or lower lr."
    )


class RenamedRegularizationMixin(RenamedParamsMixin):
    """``reg``, renamed ``regularization`` (the name ALS, BPR and LMF use), still accepted for one release.

    Subclasses declare ``"reg": renamed_param_constraint(...)`` beside
    ``regularization``'s constraint, take ``reg=DEPRECATED`` as a keyword-only
    parameter and read the penalty with ``self._param("regularization")``;
    ``fit`` warns when ``reg`` is set (see :mod:`recsys.utils._renamed_params`).
    """

    _renamed_params: ClassVar[dict] = {"reg": "regularization"}

    def fit(self, X, y, *, duplicates="error"):
        self._warn_renamed_params()
        return super().fit(X, y, duplicates=duplicates)

    fit.__doc__ = BaseRatingPredictor.fit.__doc__
