"""The base classes of top-N recommenders and rating predictors."""

import warnings
from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted

from recsys.utils import (
    PersistenceMixin,
    check_interaction_matrix,
    check_item_indices,
    check_pairs,
    check_positive_int,
    check_ratings,
    top_k,
)
from recsys.utils._validation import (
    DUPLICATE_POLICIES,
    check_duplicates_policy,
    merge_duplicate_pairs,
)

# Rows scored at once by the default recommend: bounds the dense score block
# to about _SCORE_BLOCK_CELLS floats whatever the number of users.
_SCORE_BLOCK_CELLS = 2**24


class BaseRecommender(PersistenceMixin, BaseEstimator, ABC):
    """Base class for top-N recommenders on a users x items matrix.

    Subclasses implement ``_fit(X)`` (X a canonical float32 CSR matrix; set
    fitted attributes ending in ``_``) and ``_score(X)`` (a dense
    (n_rows, n_items) array of scores for the users whose interactions are the
    rows of X). They may override :meth:`recommend` when they can do better
    than scoring every item, e.g. approximate retrieval.

    ``recommend`` always folds in the rows it is given: a row need not be a
    user seen in ``fit``, so scikit-learn's row splitters evaluate strong
    generalisation and new users are served without refitting.

    ``save(path)`` / ``load(path)`` come from
    :class:`~recsys.utils.PersistenceMixin`; a subclass declares the shapes
    of its fitted arrays (``_fitted_shapes``, ...) for ``load`` to check them.

    **Results in your own ids.** A model fitted on an
    :class:`~recsys.datasets.Interactions` keeps its vocabularies as
    ``user_ids_`` and ``item_ids_`` (saved and loaded with it), and then
    answers in those ids: :meth:`recommend_ids` gives a table
    ``user_id, rank, item_id, score``, ``similar_item_ids`` the ids most
    similar to given ids (models with ``similar_items``), and ``explain``
    the contribution of each item of a user's history to a score (models
    that define ``_explain(history, item)``). Like ``recommend``, these fold
    in the histories they are given, as an ``Interactions`` in the same
    ids, so a model holds no copy of its training matrix: pass the training
    interactions to serve the users seen in fit, new interactions for
    anyone else (implicit's ``recommend(userid, user_items)`` works the same
    way). Integer ids are never confused with column indices: the
    index-based methods (``recommend``, ``similar_items``) take indices, the
    ``*_ids`` methods and ``explain`` take ids. A model fitted on a bare
    matrix has no vocabularies; its id-based methods then need
    ``item_ids=`` (``np.arange(model.n_items_)`` works in column indices).
    """

    # What load checks for the vocabularies kept by a fit on Interactions:
    # "n_users" is the free dimension the user factors of factor models share.
    _fitted_shapes: ClassVar[dict] = {"user_ids_": ("n_users",), "item_ids_": ("n_items_",)}
    _fitted_unique = ("user_ids_", "item_ids_")
    _fitted_optional = ("user_ids_", "item_ids_")

    def fit(self, X, y=None):
        """Fit the recommender.

        Parameters
        ----------
        X : sparse matrix of shape (n_users, n_items) or Interactions
            Non-negative interaction counts or weights. An ``Interactions``
            is read with ``to_csr(values="auto")`` and its vocabularies are
            kept as ``user_ids_`` and ``item_ids_``; a matrix leaves them
            unset.
        y : None
            Ignored; present for scikit-learn API consistency.

        Returns
        -------
        self : object
        """
        if getattr(self, "_parameter_constraints", None):
            self._validate_params()
        vocabularies = _vocabularies(X)
        X = check_interaction_matrix(X)
        self.n_items_ = X.shape[1]
        self.n_features_in_ = X.shape[1]  # scikit-learn's name for the same width
        for name in ("user_ids_", "item_ids_"):
            vars(self).pop(name, None)  # a refit on a matrix must not keep the ids of an earlier fit
        self._fit(X)
        if vocabularies is not None:
            self.user_ids_, self.item_ids_ = vocabularies
        return self

    @abstractmethod
    def _fit(self, X):
        """Fit on a validated CSR matrix."""

    @abstractmethod
    def _score(self, X):
        """Return dense scores of shape (X.shape[0], n_items_) for the rows of X."""

    def _validate_for_recommend(self, X):
        check_is_fitted(self)
        return check_interaction_matrix(X, n_items=self.n_items_, allow_empty=True, estimator=self)

    def _allowed_items(self, n, items):
        """Check recommend's n and items; return a bool mask of the allowed items, or None for all."""
        check_positive_int(n, "n")
        if items is None:
            return None
        allowed = np.zeros(self.n_items_, dtype=bool)
        allowed[check_item_indices(items, self.n_items_)] = True
        return allowed

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        """Recommend the n best items for each user whose interactions are a row of X.

        Parameters
        ----------
        X : sparse matrix of shape (n_rows, n_items) or Interactions
            Interactions of the users to recommend to (fold-in).
        n : int, default=10
            Number of items per user.
        exclude_seen : bool, default=True
            Never recommend an item stored in the user's row of X.
        items : array-like of int, default=None
            Restrict recommendations to these item indices.

        Returns
        -------
        ids : ndarray of shape (n_rows, n), int64
            Item indices, best first; -1 where fewer than n items could be
            recommended.
        scores : ndarray of shape (n_rows, n)
            Their scores; -inf where the id is -1.
        """
        X = self._validate_for_recommend(X)
        allowed = self._allowed_items(n, items)
        block = max(1, _SCORE_BLOCK_CELLS // max(self.n_items_, 1))
        ids = np.empty((X.shape[0], n), dtype=np.int64)
        scores = np.empty((X.shape[0], n), dtype=np.float64)
        for start in range(0, X.shape[0], block):
            rows = X[start:start + block]
            block_scores = self._recommend_scores(rows, n, exclude_seen, items, allowed)
            if allowed is not None:
                block_scores[:, ~allowed] = -np.inf
            block_ids, block_top = top_k(block_scores, n, exclude=rows if exclude_seen else None,
                                         overwrite_scores=True)
            ids[start:start + block], scores[start:start + block] = block_ids, block_top
        return ids, scores

    def _recommend_scores(self, rows, n, exclude_seen, items, allowed):
        """Dense float64 scores of a block of rows, before :meth:`recommend` blocks items: ``_score``.

        A model whose scores depend on the request (an ensemble fusing its
        members' top-n lists) overrides it; ``allowed`` is the mask of
        ``items`` (None: all).
        """
        return np.asarray(self._score(rows), dtype=np.float64)

    def recommend_ids(self, interactions, users=None, n=10, exclude_seen=True, items=None, *,
                      item_ids=None, unknown_items="error"):
        """Recommend the n best items to users, as a table in their own ids.

        The users' histories are folded in as by :meth:`recommend`: pass the
        training interactions to serve users seen in fit, or interactions of
        new users (their item ids are matched to the model's).

        Parameters
        ----------
        interactions : Interactions
            The histories of the users, in their own user and item ids.
        users : user id or array-like of user ids, default=None
            Users of ``interactions`` to recommend to; None for all of its
            users (a user without events gets the model's scores for an empty
            history).
        n : int, default=10
            Number of items per user.
        exclude_seen : bool, default=True
            Never recommend an item of the user's history.
        items : array-like of item ids, default=None
            Recommend only among these item ids.
        item_ids : array-like, default=None
            The ids of the model's items in column order, for a model fitted
            on a matrix (one fitted on ``Interactions`` knows its
            ``item_ids_``).
        unknown_items : {"error", "drop"}, default="error"
            What to do with events on items the model was not fitted on:
            raise, or leave them out of the histories with an
            :class:`UnknownItemsWarning` giving their number.

        Returns
        -------
        recommendations : pandas.DataFrame
            Columns ``user_id, rank, item_id, score``, best first for each
            user (rank 1). A user for whom fewer than n items can be
            recommended has fewer rows: padding is left out.

        Examples
        --------
        >>> from recsys.datasets import make_interactions
        >>> from recsys.neighbors import ItemKNN
        >>> data = make_interactions(100, 30, density=0.1, random_state=0)
        >>> model = ItemKNN(k=10).fit(data)
        >>> table = model.recommend_ids(data, users=data.user_ids[:2], n=3)
        >>> list(table.columns), len(table)
        (['user_id', 'rank', 'item_id', 'score'], 6)
        """
        vocabulary = self._item_vocabulary(item_ids)
        X = self._history_matrix(interactions, vocabulary, unknown_items)
        rows = np.arange(X.shape[0]) if users is None else _user_rows(interactions, users)
        allowed = None if items is None else _item_columns(vocabulary, items, "items")
        ids, scores = self.recommend(X[rows], n=n, exclude_seen=exclude_seen, items=allowed)
        return _ranking_frame(np.asarray(interactions.user_ids)[rows], ids, scores, vocabulary,
                              ("user_id", "item_id"))

    def _has_similar_items(self):
        return hasattr(self, "similar_items")

    @available_if(_has_similar_items)
    def similar_item_ids(self, items, n=10, *, item_ids=None):
        """The n items most similar to each given item, as a table in item ids.

        ``similar_items`` on indices, mapped through ``item_ids_``: a
        separate method, so that an integer id is never taken for an index.

        Parameters
        ----------
        items : item id or array-like of item ids
        n : int, default=10
        item_ids : array-like, default=None
            The ids of the model's items in column order, for a model fitted
            on a matrix.

        Returns
        -------
        similar : pandas.DataFrame
            Columns ``item_id, rank, similar_item_id, score``, most similar
            first (rank 1); an item with fewer than n similar items has fewer
            rows (padding is left out).
        """
        vocabulary = self._item_vocabulary(item_ids)
        columns = _item_columns(vocabulary, items, "items")
        ids, scores = self.similar_items(columns, n=n)
        return _ranking_frame(vocabulary[columns], ids, scores, vocabulary,
                              ("item_id", "similar_item_id"))

    def _has_explain(self):
        return hasattr(self, "_explain")

    @available_if(_has_explain)
    def explain(self, interactions, user, item, *, item_ids=None, unknown_items="error"):
        """How much each item of a user's history adds to the user's score of an item.

        The contributions sum to the score ``recommend`` ranks the item by
        for that history (up to float rounding); how a model splits its
        score is in its ``_explain``.

        Parameters
        ----------
        interactions : Interactions
            Histories in the users' own ids (the training interactions, or
            new ones), folded in as by :meth:`recommend_ids`.
        user : user id
            A user of ``interactions``.
        item : item id
            The item to explain, one the model was fitted on.
        item_ids : array-like, default=None
            The ids of the model's items in column order, for a model fitted
            on a matrix.
        unknown_items : {"error", "drop"}, default="error"
            As in :meth:`recommend_ids`.

        Returns
        -------
        contributions : pandas.DataFrame
            Columns ``history_item_id, contribution``, one row per item of
            the user's history, largest contribution first.
            ``contributions.attrs["score"]`` holds their sum, the score.
        """
        vocabulary = self._item_vocabulary(item_ids)
        X = self._history_matrix(interactions, vocabulary, unknown_items)
        row = _user_rows(interactions, user)
        if len(row) != 1:
            raise ValueError(f"explain takes one user id; got {len(row)}.")
        column = _item_columns(vocabulary, item, "item")
        if len(column) != 1:
            raise ValueError(f"explain takes one item id; got {len(column)}.")
        history = X[row]
        contributions = np.asarray(self._explain(history, int(column[0])), dtype=np.float64)
        order = np.argsort(-contributions, kind="stable")
        table = pd.DataFrame({"history_item_id": vocabulary[history.indices[order]],
                              "contribution": contributions[order]})
        table.attrs["score"] = float(contributions.sum())
        return table

    def _item_vocabulary(self, item_ids):
        """The ids of the model's items in column order: item_ids_, or the item_ids= given."""
        check_is_fitted(self)
        known = getattr(self, "item_ids_", None)
        if item_ids is None:
            if known is None:
                raise ValueError(
                    f"this {type(self).__name__} was fitted on a matrix, so it knows no item ids. "
                    "Fit it on a recsys.datasets.Interactions to keep them (user_ids_, item_ids_), "
                    "or pass item_ids= (the ids of its columns in order; "
                    "np.arange(model.n_items_) to work in column indices)."
                )
            return np.asarray(known)
        item_ids = np.asarray(item_ids)
        if item_ids.ndim != 1 or len(item_ids) != self.n_items_:
            raise ValueError(f"item_ids must hold one id per item of the model ({self.n_items_}); "
                             f"got shape {item_ids.shape}.")
        if not pd.Index(item_ids).is_unique:
            raise ValueError("item_ids holds repeated ids; each item needs its own id.")
        if known is not None and not np.array_equal(np.asarray(known), item_ids):
            raise ValueError("item_ids differs from the item_ids_ the model was fitted with; "
                             "leave item_ids= out to use the model's own.")
        return item_ids

    def _history_matrix(self, interactions, vocabulary, unknown_items):
        """The users x model-items CSR matrix of an Interactions whose item ids are mapped to columns."""
        if unknown_items not in ("error", "drop"):
            raise ValueError(f"unknown_items must be 'error' or 'drop'; got {unknown_items!r}.")
        if sp.issparse(interactions) or not hasattr(interactions, "item_ids") \
                or not hasattr(interactions, "to_csr"):
            raise TypeError(
                "interactions must be a recsys.datasets.Interactions holding the users' histories "
                f"in their own ids; got {type(interactions).__name__}. For rows of a users x items "
                "matrix in column indices, use recommend(X)."
            )
        X = check_interaction_matrix(interactions, allow_empty=True, name="interactions")
        columns = pd.Index(vocabulary).get_indexer(np.asarray(interactions.item_ids))
        if len(columns) == self.n_items_ and (columns == np.arange(self.n_items_)).all():
            return X  # the vocabulary the model was fitted on (a split of the same data)
        unknown = columns < 0
        events_per_item = np.bincount(X.indices, minlength=X.shape[1])
        unknown_used = unknown & (events_per_item > 0)
        if unknown_used.any():
            examples = np.asarray(interactions.item_ids)[unknown_used][:5].tolist()
            count = int(unknown_used.sum())
            if unknown_items == "error":
                raise ValueError(
                    f"{count} item id(s) of interactions that have events are not items of the "
                    f"model (e.g. {examples}); it cannot score them. Pass unknown_items='drop' "
                    "to leave them out of the histories, or refit the model on data holding them."
                )
            n_events = int(events_per_item[unknown_used].sum())
            warnings.warn(
                f"{n_events} event(s) on {count} item id(s) unknown to the model (e.g. {examples}) "
                "are left out of the histories.", UnknownItemsWarning, stacklevel=3,
            )
        coo = X.tocoo()
        kept = ~unknown[coo.col]
        mapped = sp.csr_matrix((coo.data[kept], (coo.row[kept], columns[coo.col[kept]])),
                               shape=(X.shape[0], self.n_items_))
        return check_interaction_matrix(mapped, n_items=self.n_items_, allow_empty=True, estimator=self)

    def score(self, X, y=None):
        """NDCG@10 on held-out interactions of the rows of X (see ``make_ranking_scorer``)."""
        from recsys.metrics import make_ranking_scorer

        # Checked before the scorer splits X, so that a matrix of another width
        # gets the width error rather than one about its held-out rows.
        X = self._validate_for_recommend(X)
        return make_ranking_scorer("ndcg", k=10)(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.requires_fit = True
        tags.target_tags.required = False
        return tags


def _vocabularies(X):
    """(user ids, item ids) of an Interactions, copied; None for a matrix."""
    if sp.issparse(X) or not (hasattr(X, "user_ids") and hasattr(X, "item_ids")):
        return None
    return np.array(X.user_ids), np.array(X.item_ids)


def _as_id_vector(ids):
    """A scalar id or array-like of ids as a 1-d array (a str is one id, not characters)."""
    return np.asarray(ids).reshape(-1)


def _user_rows(interactions, users):
    """Rows of interactions for the given user ids; unknown ids raise."""
    users = _as_id_vector(users)
    rows = pd.Index(np.asarray(interactions.user_ids)).get_indexer(users)
    if (rows < 0).any():
        unknown = users[rows < 0][:5].tolist()
        raise ValueError(
            f"user id(s) {unknown} are not users of interactions: its histories are the ones "
            "folded in, so it must hold every user asked for (an Interactions whose vocabulary "
            "has them; a user without events gets recommendations for an empty history)."
        )
    return rows


def _item_columns(vocabulary, items, name):
    """Columns of the model for the given item ids; ids the model was not fitted on raise."""
    items = _as_id_vector(items)
    columns = pd.Index(vocabulary).get_indexer(items)
    if (columns < 0).any():
        unknown = items[columns < 0][:5].tolist()
        raise ValueError(f"{name}: item id(s) {unknown} are not items of the model (its ids are "
                         "item_ids_, in column order).")
    return columns


def _ranking_frame(query_ids, ids, scores, vocabulary, columns):
    """A long table (query id, rank, result id, score) of top-n rows, padding (-1) left out."""
    found = ids >= 0
    row, position = np.nonzero(found)
    query_column, result_column = columns
    return pd.DataFrame({
        query_column: np.asarray(query_ids)[row],
        "rank": (position + 1).astype(np.int64),
        result_column: vocabulary[ids[found]],
        "score": scores[found].astype(np.float64),
    })


def _check_array_like_sklearn(X):
    """scikit-learn's own checks of an array X of pairs: sparse, complex, no rows or columns.

    Their errors then read as every scikit-learn estimator's; ``check_pairs``
    checks the (user, item) layout after. A DataFrame is passed through
    untouched: converting its id columns to one array would copy them.
    """
    if isinstance(X, pd.DataFrame):
        return X
    return check_array(X, dtype=None, accept_sparse=False, ensure_all_finite=False,
                       ensure_min_samples=1, ensure_min_features=1, input_name="X")


def merge_rating_duplicates(users, items, user_codes, item_codes, ratings, duplicates):
    """The rows kept of fit's (user, item) pairs under a ``duplicates`` policy, and their ratings.

    A repeated pair under ``"error"`` raises naming the pair and the fit
    keyword that merges it; rating predictors and their blends share it.
    """
    kept, merged, _, _ = merge_duplicate_pairs(
        user_codes, item_codes, duplicates, values={"rating": ratings},
        # tolist() gives plain Python ids, so the message reads 1, not np.int64(1).
        describe_pair=lambda row: (users[[row]].tolist()[0], items[[row]].tolist()[0]), name="X",
        how_to_merge=(f"pass fit(X, y, duplicates=...) with one of {DUPLICATE_POLICIES[1:]} "
                      "to say how to merge their ratings (e.g. 'mean')."),
    )
    return kept, merged["rating"]


class UnknownItemsWarning(UserWarning):
    """Warned when events on items a recommender was not fitted on are left out of histories."""


class UnknownPairsWarning(UserWarning):
    """Raised by rating predictors when pairs have a user or item unseen in fit."""


class DegenerateFitError(ValueError):
    """Raised when a fit diverges (non-finite or exploding parameters) or collapses.

    The message says what went wrong and how to fix it, typically rescaling
    the ratings or lowering the learning rate.
    """


class BaseRatingPredictor(PersistenceMixin, RegressorMixin, BaseEstimator, ABC):
    """Base class for rating predictors on (user, item) pairs.

    ``fit(X, y)`` takes X an array or DataFrame of (user, item) pairs of any
    hashable ids and y their ratings, like any scikit-learn regressor, so
    ``cross_val_score``, ``GridSearchCV`` and ``StackingRegressor`` work
    unchanged. Subclasses implement ``_fit(users, items, ratings)`` and
    ``_predict(users, items)`` on contiguous indices; in ``_predict`` an index
    of -1 marks a user or item unseen in fit, for which the model returns its
    documented fallback (typically the global mean plus the known bias).

    ``predict`` clips to the rating range seen in fit and emits one
    :class:`UnknownPairsWarning` giving the number of pairs with an unknown
    user or item; it never returns NaN. A fit whose parameters end up NaN or
    inf raises :class:`DegenerateFitError` instead of returning a model whose
    predictions would have to be patched.

    Attributes set by ``fit``: ``user_ids_``, ``item_ids_`` (the vocabularies),
    ``n_users_``, ``n_items_``, ``global_mean_``, ``rating_min_``, ``rating_max_``.
    ``save(path)`` / ``load(path)`` come from :class:`~recsys.utils.PersistenceMixin`.
    """

    # What load checks (recsys.utils.PersistenceMixin): the vocabularies, and
    # the biases and factors of the models that have them, under these names.
    _fitted_shapes: ClassVar[dict] = {
        "user_ids_": ("n_users_",), "item_ids_": ("n_items_",),
        "user_bias_": ("n_users_",), "item_bias_": ("n_items_",),
        "user_factors_": ("n_users_", "n_components"), "item_factors_": ("n_items_", "n_components"),
    }
    _fitted_unique = ("user_ids_", "item_ids_")
    _fitted_optional = ("user_bias_", "item_bias_", "user_factors_", "item_factors_")

    def fit(self, X, y, *, duplicates="error"):
        """Fit the model on (user, item) pairs X and their ratings y.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 2)
            (user id, item id) pairs.
        y : array-like of shape (n_samples,)
            Ratings.
        duplicates : {"error", "mean", "sum", "first", "last"}, default="error"
            What to do with a (user, item) pair given more than once: raise,
            or fit on the mean (or sum) of its ratings, or on its first or
            last rating in row order. The policies are those of
            :meth:`recsys.datasets.Interactions.from_pandas`. A fit keyword
            rather than a constructor parameter, so that it is no
            hyper-parameter: ``GridSearchCV(...).fit(X, y, duplicates="mean")``
            passes it on to every fit.

        Returns
        -------
        self : object
        """
        if getattr(self, "_parameter_constraints", None):
            self._validate_params()
        check_duplicates_policy(duplicates)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        users, items = check_pairs(_check_array_like_sklearn(X))
        self.n_features_in_ = 2  # the (user, item) columns
        ratings = check_ratings(y, len(users))
        user_codes, self.user_ids_ = pd.factorize(users, sort=True)
        item_codes, self.item_ids_ = pd.factorize(items, sort=True)
        kept, ratings = merge_rating_duplicates(users, items, user_codes, item_codes, ratings, duplicates)
        user_codes, item_codes = user_codes[kept], item_codes[kept]
        self.n_users_, self.n_items_ = len(self.user_ids_), len(self.item_ids_)
        self.global_mean_ = float(ratings.mean())
        self.rating_min_, self.rating_max_ = float(ratings.min()), float(ratings.max())
        self._fit(user_codes.astype(np.int32), item_codes.astype(np.int32), ratings)
        self._check_fitted_finite()
        return self

    def _check_fitted_finite(self):
        """Raise DegenerateFitError when a fitted float array holds NaN or inf (a diverged fit)."""
        for name, value in vars(self).items():
            if (name.endswith("_") and isinstance(value, np.ndarray)
                    and np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all()):
                raise DegenerateFitError(
                    f"{type(self).__name__} diverged: its fitted {name} holds NaN or inf. Ratings "
                    f"from {self.rating_min_:g} to {self.rating_max_:g} may be too large for its "
                    "updates: divide them by a constant before fitting (and multiply the "
                    "predictions back), or lower the learning rate where it has one."
                )

    def encode_pairs(self, X):
        """Map (user, item) id pairs to model indices; -1 for ids unseen in fit."""
        check_is_fitted(self)
        users, items = check_pairs(X)
        return (pd.Index(self.user_ids_).get_indexer(users).astype(np.int32),
                pd.Index(self.item_ids_).get_indexer(items).astype(np.int32))

    def predict(self, X):
        """Predict the ratings of (user, item) pairs.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 2)

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions clipped to ``[rating_min_, rating_max_]``.
        """
        users, items = self.encode_pairs(X)
        n_unknown = int(((users < 0) | (items < 0)).sum())
        if n_unknown:
            warnings.warn(
                f"{n_unknown} of {len(users)} pairs have a user or item unseen in fit; "
                f"they get the fallback prediction of {type(self).__name__}.",
                UnknownPairsWarning, stacklevel=2,
            )
        predictions = np.asarray(self._predict(users, items), dtype=np.float64)
        n_invalid = int((~np.isfinite(predictions)).sum())
        if n_invalid:
            # Never replaced by a default: that would hide a broken model.
            raise DegenerateFitError(
                f"{type(self).__name__} predicted NaN or inf for {n_invalid} of {len(predictions)} "
                "pairs: its fitted parameters are not finite. Refit it (a fit that diverges "
                "raises DegenerateFitError saying how to fix it)."
            )
        return np.clip(predictions, self.rating_min_, self.rating_max_)

    @abstractmethod
    def _fit(self, users, items, ratings):
        """Fit on int32 user and item indices and float64 ratings."""

    @abstractmethod
    def _predict(self, users, items):
        """Predict for int32 indices, -1 marking ids unseen in fit."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
