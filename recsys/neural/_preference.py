"""BradleyTerry: a reward model learned from (chosen, rejected) pairs."""

from numbers import Real
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from recsys.neural._text import refuse_fine_tuned
from recsys.utils import PersistenceMixin


class BradleyTerry(PersistenceMixin, BaseEstimator):
    r"""Bradley-Terry reward model: a scalar reward per item or per text, from preference pairs.

    Each pair says "a was chosen over b". The model gives every item (or
    every text) a reward :math:`r` such that
    :math:`P(a \succ b) = \sigma(r_a - r_b)` and minimises

    .. math::

        \sum_{(c, r)} -\log \sigma(r_c - r_r - m) + \frac{\alpha}{2} \lVert \theta \rVert^2

    with margin :math:`m` (``margin``; the reward gap asked for before a pair
    stops pulling, as in Llama 2's reward model) by L-BFGS. The rewards are

    - **items** (``embedder=None``): one free reward per item id seen in the
      pairs (a logistic regression on one-hot differences);
    - **texts** (``embedder`` given, e.g. :class:`TransformerEmbedder`):
      :math:`r(x) = w^\top \phi(x)`, linear in the text's embedding
      :math:`\phi(x)`, so texts never seen in fit get rewards too (the
      reward head of RLHF, on frozen features).

    **Link to BPR.** Bayesian Personalised Ranking (Rendle et al. 2009)
    minimises :math:`-\log \sigma(\hat x_{ui} - \hat x_{uj})` over a user's
    observed item i and unobserved item j: the same loss, where the reward is
    the user's score of an item and the pairs are implicit (observed beats
    unobserved). A BPR model with item biases only is exactly this model
    fitted on the pairs (i, j) of all users; BPR's user factors make the
    reward personal. Conversely, a BradleyTerry model is BPR for one user who
    states preferences explicitly.

    Parameters
    ----------
    embedder : transformer or None, default=None
        None: pairs are item ids. Otherwise pairs are texts, embedded by a
        clone of ``embedder`` fitted in ``fit`` on the
        distinct texts of the pairs.
    margin : float >= 0, default=0.0
        Reward gap :math:`m` inside the loss. ``predict_proba`` ignores it.
    alpha : float >= 0, default=1.0
        L2 penalty on the item rewards or on the weights. Needed with items
        (rewards are otherwise defined up to a shift and diverge for an item
        that always wins); 0 is allowed for texts.
    max_iter : int, default=500
        L-BFGS iterations.
    tol : float, default=1e-6
        L-BFGS gradient tolerance.

    Attributes
    ----------
    items_ : ndarray
        Sorted item ids (items mode).
    n_items_ : int
        Number of items (items mode).
    rewards_ : ndarray of shape (n_items,)
        Reward of each of ``items_`` (items mode).
    coef_ : ndarray of shape (n_features,)
        Reward weights on the embedding (texts mode).
    embedder_ : transformer
        The fitted embedder (texts mode).
    n_iter_ : int
    loss_ : float
        Final mean pair loss (without the penalty).

    Notes
    -----
    ``save``/``load`` (:class:`recsys.utils.PersistenceMixin`) store the
    rewards or weights without pickle; a text model stores its embedder's
    parameters, and a :class:`TransformerEmbedder` reloads its encoder from
    ``model`` on load (a fine-tuned one is refused by ``save``: save the
    encoder with ``save_pretrained`` and pass that folder as ``model``).

    Examples
    --------
    >>> from recsys.neural import BradleyTerry
    >>> pairs = [["tea", "coffee"], ["coffee", "water"], ["tea", "water"], ["tea", "coffee"]]
    >>> model = BradleyTerry(alpha=0.1).fit(pairs)
    >>> model.items_[model.predict(model.items_).argsort()[::-1]].tolist()
    ['tea', 'coffee', 'water']
    >>> bool(model.predict_proba([["tea", "water"]])[0, 1] > 0.9)
    True
    """

    # items mode fits items_/n_items_/rewards_, texts mode coef_/embedder_ (checked by load)
    _fitted_shapes: ClassVar[dict] = {"items_": ("n_items_",), "rewards_": ("n_items_",),
                                      "coef_": ("n_features",)}
    _fitted_unique = ("items_",)
    _fitted_optional = ("items_", "rewards_", "coef_")
    _parameter_constraints: ClassVar[dict] = {
        "embedder": [None, HasMethods(["fit", "transform"])],
        "margin": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Real, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, embedder=None, margin=0.0, alpha=1.0, max_iter=500, tol=1e-6):
        self.embedder = embedder
        self.margin = margin
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, pairs, y=None, sample_weight=None):
        """Fit rewards to preference pairs.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2)
            Rows (chosen, rejected): item ids, or texts when ``embedder`` is set.
        y : ignored
        sample_weight : array-like of shape (n_pairs,), default=None
            Weight of each pair's loss.

        Returns
        -------
        self : BradleyTerry
        """
        self._validate_params()
        pairs = _check_pairs(pairs)
        weight = np.ones(len(pairs)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if weight.shape != (len(pairs),) or not np.all(np.isfinite(weight)) or np.any(weight < 0):
            raise ValueError(f"sample_weight must hold {len(pairs)} finite non-negative weights, one per pair.")
        if self.embedder is None:
            if self.alpha == 0:
                raise ValueError("alpha=0 with item rewards leaves them defined only up to a shift and lets an "
                                 "item that always wins diverge: use alpha > 0 (e.g. 1.0).")
            self.items_, codes = np.unique(pairs, return_inverse=True)
            self.n_items_ = len(self.items_)
            codes = codes.reshape(pairs.shape)
            diff = _OneHotDifference(codes[:, 0], codes[:, 1], len(self.items_))
        else:
            texts, codes = np.unique(pairs.astype(str), return_inverse=True)
            self.embedder_ = clone(self.embedder).fit(list(texts))
            features = np.asarray(self.embedder_.transform(list(texts)), dtype=np.float64)
            codes = codes.reshape(pairs.shape)
            diff = _DenseDifference(features[codes[:, 0]] - features[codes[:, 1]])
        theta = np.zeros(diff.n_params)
        result = minimize(self._objective, theta, args=(diff, weight), jac=True, method="L-BFGS-B",
                          options={"maxiter": int(self.max_iter), "gtol": self.tol})
        if self.embedder is None:
            self.rewards_ = result.x
        else:
            self.coef_ = result.x
        self.n_iter_ = int(result.nit)
        self.loss_ = float(np.average(-log_expit(diff.apply(result.x) - self.margin), weights=weight))
        return self

    def _fitted_dimensions(self, state):
        """coef_ has one weight per feature of the (loaded) embedder, for load's checks."""
        embedder = state.get("embedder_")
        try:
            return {} if embedder is None else {"n_features": len(embedder.get_feature_names_out())}
        except (AttributeError, ValueError):  # an embedder that does not name its outputs: no check
            return {}

    def save(self, path):
        refuse_fine_tuned(getattr(self, "embedder_", None), type(self).__name__)
        return super().save(path)

    save.__doc__ = PersistenceMixin.save.__doc__

    def _objective(self, theta, diff, weight):
        gap = diff.apply(theta) - self.margin
        loss = -(weight * log_expit(gap)).sum() + 0.5 * self.alpha * theta @ theta
        # d/dgap of -log sigma(gap) is -sigma(-gap)
        gradient = diff.transpose_apply(-weight * expit(-gap)) + self.alpha * theta
        return loss, gradient

    def predict(self, X):
        """Rewards of items (ids seen in fit) or texts.

        Parameters
        ----------
        X : array-like of shape (n,)

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self, "n_iter_")
        X = np.asarray(X, dtype=object if self.embedder is None else str)
        if X.ndim != 1:
            raise ValueError(f"X must be 1-d (one item or text per reward); got shape {X.shape}.")
        if self.embedder is not None:
            return np.asarray(self.embedder_.transform(list(X)), dtype=np.float64) @ self.coef_
        positions = pd.Index(self.items_).get_indexer(X)
        if np.any(positions < 0):
            unknown = X[positions < 0]
            raise ValueError(f"{len(unknown)} item(s) were not in any pair seen in fit, e.g. {unknown[0]!r}: "
                             "item rewards exist only for them (use an embedder to score new texts).")
        return self.rewards_[positions]

    def predict_proba(self, pairs):
        """Bradley-Terry probabilities for pairs (a, b).

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2)

        Returns
        -------
        ndarray of shape (n_pairs, 2)
            Column 1 is P(a preferred to b) = sigmoid(r_a - r_b); column 0 its complement.
        """
        check_is_fitted(self, "n_iter_")
        pairs = _check_pairs(pairs)
        rewards = self.predict(pairs.reshape(-1)).reshape(-1, 2)
        preferred = expit(rewards[:, 0] - rewards[:, 1])
        return np.column_stack([1 - preferred, preferred])

    def score(self, pairs, y=None):
        """Share of pairs whose first element gets the higher reward (ties count half)."""
        check_is_fitted(self, "n_iter_")
        rewards = self.predict(_check_pairs(pairs).reshape(-1)).reshape(-1, 2)
        return float(np.mean((rewards[:, 0] > rewards[:, 1]) + 0.5 * (rewards[:, 0] == rewards[:, 1])))


class _OneHotDifference:
    """The linear map theta -> theta[chosen] - theta[rejected] and its transpose."""

    def __init__(self, chosen, rejected, n_items):
        self.chosen, self.rejected, self.n_params = chosen, rejected, n_items

    def apply(self, theta):
        return theta[self.chosen] - theta[self.rejected]

    def transpose_apply(self, g):
        return (np.bincount(self.chosen, g, self.n_params) - np.bincount(self.rejected, g, self.n_params))


class _DenseDifference:
    """The linear map w -> (phi(chosen) - phi(rejected)) @ w and its transpose."""

    def __init__(self, differences):
        self.differences, self.n_params = differences, differences.shape[1]

    def apply(self, theta):
        return self.differences @ theta

    def transpose_apply(self, g):
        return g @ self.differences


def _check_pairs(pairs):
    array = np.asarray(pairs, dtype=object) if not isinstance(pairs, np.ndarray) else pairs
    if hasattr(pairs, "to_numpy"):
        array = pairs.to_numpy()
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"pairs must have shape (n_pairs, 2), rows (chosen, rejected); got shape {array.shape}.")
    if len(array) == 0:
        raise ValueError("pairs is empty: at least one (chosen, rejected) pair is needed.")
    if any(value is None or (isinstance(value, float) and np.isnan(value)) for value in array.ravel()):
        raise ValueError("pairs holds missing values (None or NaN): drop those pairs first.")
    try:  # ids of one type sort and compare as that type (object arrays of mixed types do not)
        return np.asarray(array.tolist())
    except (TypeError, ValueError):
        return array
