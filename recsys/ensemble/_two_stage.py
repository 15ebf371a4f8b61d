"""TwoStageRecommender: retrieve candidates with one recommender, rerank them with a learned model."""

import inspect
from contextlib import ExitStack, nullcontext
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from recsys.base import BaseRecommender
from recsys.ensemble._base import normalize_scores
from recsys.ensemble._ranker_state import (
    SAVED_RANKERS,
    live_model,
    ranker_library,
    saved_model,
)
from recsys.utils import numba_threads, split_rows

_NAMED_RANKERS = ("lambdarank", "xgboost")
#: rows of labelled candidates used to estimate permutation importances when the ranker has none
_IMPORTANCE_SAMPLE = 20_000


def _import_ltr(module):
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(
            f"ranker={'lambdarank' if module == 'lightgbm' else 'xgboost'!r} needs {module}; install it "
            "with pip install 'recsys[ltr]'."
        ) from None


def _is_group_ranker(estimator):
    """Whether estimator is a learning-to-rank model whose fit takes query groups."""
    try:
        parameters = inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False
    return "group" in parameters or "qid" in parameters


def _events_frame(matrix, first_user=0):
    """The stored entries of a users x items matrix as a (user, item) events DataFrame."""
    coo = sp.coo_matrix(matrix)
    return pd.DataFrame({"user": coo.row.astype(np.int64) + first_user, "item": coo.col.astype(np.int64)})


class TwoStageRecommender(_BaseComposition, BaseRecommender):
    """Retrieve candidates with one recommender, then rerank them with a learned ranker.

    Stage one: ``candidates`` (any recsys recommender) folds in each user's
    row and returns its ``n_candidates`` best items. Stage two: a ranker
    scores each (user, candidate) pair from its features and the candidates
    are reordered by that score.

    Training the ranker without leakage. ``fit`` holds out a
    ``validation_size`` share of the training users (those with at least two
    interactions), fits the candidate model (and the ``scorers``) on the
    other users, splits each held-out user's row into a fold-in part
    (``fold_in`` of its items) and a hidden part, retrieves candidates from
    the fold-in part exactly as ``recommend`` will for new users, and labels
    each candidate 1 when it is in the hidden part. The ranker learns from
    these labelled lists; the candidate model and scorers are then refitted
    on all users for serving. The users ``recommend`` is later evaluated on
    are never used: their rows are only folded in.

    Features of a (user, candidate) pair, in ``feature_names_``:

    - ``candidate_score``, ``candidate_score_norm`` (min-max over the user's
      list) and ``candidate_rank`` from stage one;
    - for each ``(name, recommender)`` of ``scorers``: ``name_score`` (its
      fold-in score of the item), ``name_score_norm`` and ``name_rank`` (rank
      among the user's candidates);
    - the columns of ``features`` (a :class:`recsys.preprocessing.PairFeatures`):
      item statistics (and its models) are learned from the training matrix,
      user statistics from the user's own row at recommend time, so a new
      user's features are those of the row it is served from.

    Parameters
    ----------
    candidates : recommender
        Stage one (cloned). Its recall at ``n_candidates`` bounds what the
        reranker can achieve.
    n_candidates : int, default=100
        Candidates per user. When ``recommend`` asks for more items (n >
        n_candidates), ``n`` candidates are retrieved instead (documented
        fallback, so that every n works).
    features : PairFeatures or None, default=None
        Per-pair statistics; None uses ``PairFeatures(time=False)`` (user and
        item counts and popularity rank). Pass ``"none"`` for the stage-one
        and scorer features only.
    scorers : list of (str, recommender), default=()
        More recommenders whose scores of the candidates become features
        (cloned, fitted like the candidate model); their parameters are
        exposed as ``<name>__<param>``.
    ranker : None, "lambdarank", "xgboost" or estimator, default=None
        None: scikit-learn's ``HistGradientBoostingClassifier`` (pointwise,
        ranks by the probability of the positive class).
        ``"lambdarank"``: LightGBM's ``LGBMRanker(objective="lambdarank")``
        with one query group per user; ``"xgboost"``: ``XGBRanker(objective="rank:ndcg")``
        (both need ``pip install 'recsys[ltr]'``). An estimator must be a
        classifier (ranked by ``predict_proba[:, 1]`` or ``decision_function``)
        or a learning-to-rank model whose ``fit`` takes ``group`` or ``qid``
        (ranked by ``predict``); it is cloned.
    validation_size : float in (0, 1), default=0.2
        Share of the training users whose candidate lists train the ranker.
    fold_in : float in (0, 1), default=0.8
        Share of each validation user's items given to stage one; the rest
        are the labels. Match the protocol the model is evaluated with.
    cross_fit : int >= 2 or None, default=None
        Cross-fitting: partition the eligible training users into
        ``cross_fit`` folds and label the candidate lists of every fold, each
        retrieved (and scored) by a stage one fitted on the other folds, so
        every training user trains the ranker (``validation_size`` is then
        unused). Costs ``cross_fit`` fits of stage one and the scorers
        instead of one. None: one ``validation_size`` share of the users.
    random_state : int or None, default=None
        Seeds the choice of validation users, their split, and the rankers
        that take a seed.
    n_threads : int or None, default=None
        OpenMP threads of the ranker's fit and predict (scikit-learn's
        gradient boosting, LightGBM, XGBoost, and the tree kernel of a
        loaded default ranker); None leaves the libraries'
        defaults (all cores). On a machine shared with other jobs, 1 avoids
        the slowdown of OpenMP threads waiting for busy cores.

    Attributes
    ----------
    candidates_ : recommender
        Stage one, fitted on all of X.
    scorers_ : list of (str, recommender)
    features_ : PairFeatures or None
        Fitted on all of X (its item part).
    ranker_ : estimator
        The fitted ranker. After ``load``, the object that scores as it did
        (see Notes).
    ranker_state_ : estimator or None
        What ``save`` stores of the ranker; None when it has no pickle-free form.
    feature_names_ : ndarray of str
    feature_importances_ : ndarray of shape (n_features,)
        The ranker's own importances (LightGBM: total gain; XGBoost: its
        default), else permutation importances (drop in average precision)
        on a sample of the labelled candidates. Sum to 1.
    training_lists_ : dict
        ``n_users``, ``n_pairs``, ``n_positives`` of the labelled lists and
        ``candidate_recall``: the share of hidden items among the candidates.
    n_items_ : int

    Notes
    -----
    Saving. ``save``/``load`` (:class:`recsys.utils.PersistenceMixin`, no pickle)
    store stage one, the scorers, the features and the ranker. The ranker is
    stored in a form that gives the same scores (:mod:`recsys.ensemble._ranker_state`):
    the default ``HistGradientBoostingClassifier`` as its trees (loaded as a
    ``HistGradientBoostingTrees`` with ``predict_proba``), LightGBM models as
    LightGBM's text model (loaded as a ``lightgbm.Booster``), XGBoost models in
    XGBoost's format (loaded into the same class), scikit-learn's binary
    linear classifiers (``LogisticRegression``, ``SGDClassifier``, ...) as
    their weights (loaded into the same class). Any other ranker (one whose
    model is private state, such as a ``CalibratedClassifierCV``) makes
    ``save`` raise a ValueError naming these.

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> from recsys.ensemble import TwoStageRecommender
    >>> from recsys.linear import EASE
    >>> X = make_interactions(300, 60, density=0.1, random_state=0).to_csr()
    >>> model = TwoStageRecommender(EASE(l2=20.0), n_candidates=30, random_state=0).fit(X)
    >>> ids, scores = model.recommend(X[:2], n=5)
    >>> ids.shape
    (2, 5)
    >>> list(model.feature_names_[:3])
    ['candidate_score', 'candidate_score_norm', 'candidate_rank']
    """

    _parameter_constraints: ClassVar[dict] = {
        "candidates": [HasMethods(["fit", "recommend"])],
        "n_candidates": [Interval(Integral, 1, None, closed="left")],
        "features": [HasMethods(["fit", "transform"]), StrOptions({"none"}), None],
        "scorers": [list, tuple],
        "ranker": [StrOptions(set(_NAMED_RANKERS)), HasMethods(["fit"]), None],
        "validation_size": [Interval(Real, 0, 1, closed="neither")],
        "fold_in": [Interval(Real, 0, 1, closed="neither")],
        "cross_fit": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": ["random_state"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    # What load checks, besides the nested estimators' own declarations.
    _fitted_shapes: ClassVar[dict] = {"feature_names_": ("n_features",), "feature_importances_": ("n_features",)}
    # The fitted ranker is rebuilt from ranker_state_ after load.
    _derived_attributes = ("ranker_",)

    def __init__(self, candidates, n_candidates=100, features=None, scorers=(), ranker=None,
                 validation_size=0.2, fold_in=0.8, cross_fit=None, random_state=None, n_threads=None):
        self.candidates = candidates
        self.n_candidates = n_candidates
        self.features = features
        self.scorers = scorers
        self.ranker = ranker
        self.validation_size = validation_size
        self.fold_in = fold_in
        self.cross_fit = cross_fit
        self.random_state = random_state
        self.n_threads = n_threads

    def get_params(self, deep=True):
        """Parameters, with deep=True also ``candidates__<param>`` and ``<scorer name>__<param>``."""
        return self._get_params("scorers", deep=deep)

    def set_params(self, **params):
        """Set parameters of the model, of stage one (``candidates__...``) or of a scorer."""
        self._set_params("scorers", **params)
        return self

    # ------------------------------------------------------------------ fit
    def _check_components(self):
        if not isinstance(self.candidates, BaseRecommender):
            raise TypeError(
                f"candidates must be a recsys recommender (BaseRecommender); got {type(self.candidates).__name__}."
            )
        if self.scorers:
            names = [name for name, _ in self.scorers]
            self._validate_names(names)
            for name, scorer in self.scorers:
                if not isinstance(scorer, BaseRecommender):
                    raise TypeError(f"scorer {name!r} must be a recsys recommender; got {type(scorer).__name__}.")

    def _make_ranker(self):
        seed = check_random_state(self.random_state).randint(2**31 - 1)
        if self.ranker is None:
            from sklearn.ensemble import HistGradientBoostingClassifier

            return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=seed)
        if isinstance(self.ranker, str):
            if self.ranker == "lambdarank":
                lightgbm = _import_ltr("lightgbm")
                return lightgbm.LGBMRanker(objective="lambdarank", n_estimators=200, learning_rate=0.05,
                                           importance_type="gain", random_state=seed, verbose=-1,
                                           n_jobs=self.n_threads)
            xgboost = _import_ltr("xgboost")
            return xgboost.XGBRanker(objective="rank:ndcg", n_estimators=200, learning_rate=0.05,
                                     random_state=seed, n_jobs=self.n_threads)
        if not (is_classifier(self.ranker) or _is_group_ranker(self.ranker)):
            raise TypeError(
                f"ranker must be a classifier (pointwise: ranked by predict_proba) or a learning-to-rank "
                f"model whose fit takes group= or qid= (LGBMRanker, XGBRanker); got "
                f"{type(self.ranker).__name__}. Wrap a regressor's scores in a classifier, or use "
                "ranker=None, 'lambdarank' or 'xgboost'."
            )
        return clone(self.ranker)

    def _fit_stage_one(self, X):
        candidates = clone(self.candidates).fit(X)
        scorers = [(name, clone(scorer).fit(X)) for name, scorer in self.scorers]
        features = None
        if self.features != "none":
            features = clone(self._features_template()).set_params(user_stats=False).fit(_events_frame(X))
        return candidates, scorers, features

    def _features_template(self):
        """The unfitted PairFeatures that ``features`` stands for."""
        if self.features is not None:
            return self.features
        from recsys.preprocessing import PairFeatures

        return PairFeatures(time=False)

    def _fit(self, X):
        self._check_components()
        ranker = self._make_ranker()
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
        eligible = np.flatnonzero(np.diff(X.indptr) >= 2)
        tables, label_parts, size_parts, n_hidden = [], [], [], 0
        for validation in self._validation_folds(X, eligible, rng):
            stage_one_users = np.setdiff1d(np.arange(X.shape[0]), validation)
            candidates, scorers, features = self._fit_stage_one(X[stage_one_users])
            fold_in, hidden = split_rows(X[validation], self.fold_in, random_state=rng.integers(2**31 - 1))
            ids, table = self._candidate_table(candidates, scorers, features, fold_in, self.n_candidates,
                                               exclude_seen=True, items=None)
            valid = ids >= 0
            label_parts.append(
                np.asarray(hidden.astype(bool)[np.nonzero(valid)[0], ids[valid]]).ravel().astype(np.int8))
            tables.append(table)
            size_parts.append(valid.sum(axis=1))
            n_hidden += hidden.nnz
        table = tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
        labels, group_sizes = np.concatenate(label_parts), np.concatenate(size_parts)
        if labels.sum() == 0 or labels.sum() == len(labels):
            raise ValueError(
                f"none of the {n_hidden} hidden items of the {len(group_sizes)} validation users is among "
                f"their {self.n_candidates} candidates (or all are), so there is nothing to learn. Raise "
                "n_candidates, use a better candidate model, or give fit more users."
            )
        with self._ranker_threads():
            self._fit_ranker(ranker, table, labels, group_sizes)
        self.training_lists_ = {
            "n_users": int((group_sizes > 0).sum()), "n_pairs": len(labels),
            "n_positives": int(labels.sum()), "candidate_recall": float(labels.sum() / max(n_hidden, 1)),
        }
        self.feature_names_ = np.asarray(table.columns, dtype=object)
        self.ranker_ = ranker
        self.ranker_state_ = saved_model(ranker)
        with self._ranker_threads():
            self.feature_importances_ = self._importances(table, labels)
        self.candidates_, self.scorers_, self.features_ = self._fit_stage_one(X)

    def _validation_folds(self, X, eligible, rng):
        """The sets of validation users, each scored by a stage one fitted on all the other users.

        One random ``validation_size`` share of the eligible users; with
        ``cross_fit=K``, a partition of all of them into K folds.
        """
        if self.cross_fit is not None:
            if len(eligible) < self.cross_fit:
                raise ValueError(
                    f"cross_fit={self.cross_fit} needs at least that many users with two interactions "
                    f"or more; X has {len(eligible)}. Lower cross_fit or give fit more users."
                )
            fold_of_user = rng.permutation(len(eligible)) % self.cross_fit
            return [np.sort(eligible[fold_of_user == fold]) for fold in range(self.cross_fit)]
        n_validation = round(self.validation_size * len(eligible))
        if n_validation < 1 or n_validation >= X.shape[0]:
            raise ValueError(
                f"validation_size={self.validation_size} leaves {n_validation} of {X.shape[0]} users "
                "(those with at least two interactions) to train the ranker on; the ranker needs some "
                "and stage one needs the rest. Use more users or another validation_size."
            )
        return [np.sort(rng.choice(eligible, n_validation, replace=False))]

    def _fit_ranker(self, ranker, table, labels, group_sizes):
        if is_classifier(ranker):
            ranker.fit(table, labels)
            return
        # Lists without any positive carry no ranking signal for a listwise objective.
        informative = np.add.reduceat(labels, np.r_[0, np.cumsum(group_sizes)[:-1]]) > 0
        informative &= group_sizes > 0
        row_group = np.repeat(np.arange(len(group_sizes)), group_sizes)
        keep = informative[row_group]
        parameters = inspect.signature(ranker.fit).parameters
        if "qid" in parameters:
            ranker.fit(table[keep], labels[keep], qid=row_group[keep])
        else:
            ranker.fit(table[keep], labels[keep], group=group_sizes[informative])

    def _importances(self, table, labels):
        native = getattr(self.ranker_, "feature_importances_", None)
        if native is None:
            from sklearn.inspection import permutation_importance
            from sklearn.metrics import average_precision_score

            rng = np.random.default_rng(0)
            sample = rng.choice(len(labels), min(len(labels), _IMPORTANCE_SAMPLE), replace=False)
            native = permutation_importance(
                self.ranker_, table.iloc[sample], labels[sample], n_repeats=3, random_state=0,
                scoring=lambda _, features, y: average_precision_score(y, self._ranker_scores(features)),
            ).importances_mean
        native = np.clip(np.asarray(native, dtype=np.float64), 0, None)
        return native / native.sum() if native.sum() > 0 else native

    # ------------------------------------------------------------------ save and load
    def save(self, path):
        """As :meth:`recsys.utils.PersistenceMixin.save`; a ValueError when the ranker has no pickle-free form.

        See Notes in the class description for the rankers that save.
        """
        check_is_fitted(self)
        if self.ranker_state_ is None:
            raise ValueError(
                f"cannot save this TwoStageRecommender: its ranker {type(self.ranker_).__name__} keeps its fitted "
                "model in private state that has no pickle-free format. Rankers that save: "
                f"{SAVED_RANKERS}. Refit with one of them, or refit this model where it is used."
            )
        return super().save(path)

    def _rebuild_derived(self):
        """After load: the ranker that scores candidates, from its saved form."""
        if "ranker_" in vars(self) or "feature_names_" not in vars(self):
            return  # fitted here, or an unfitted template saved as a parameter
        if self.ranker_state_ is None:
            raise ValueError("cannot load this TwoStageRecommender: the file holds no ranker (ranker_state_ is "
                             "null). The file is damaged; save the fitted model again.")
        self.ranker_ = live_model(self.ranker_state_)

    # ------------------------------------------------------------------ features
    def _candidate_table(self, candidates, scorers, features, rows, n_candidates, exclude_seen, items):
        """Candidates of each row and the feature table of the valid (row, candidate) pairs.

        Returns ids of shape (n_rows, n_candidates), -1 where a row has fewer
        candidates, and a DataFrame with one row per valid pair in row-major order.
        """
        ids, scores = candidates.recommend(rows, n=n_candidates, exclude_seen=exclude_seen, items=items)
        valid = ids >= 0
        row_of_pair, place = np.nonzero(valid)
        columns = {
            "candidate_score": scores[valid],
            "candidate_score_norm": normalize_scores(np.where(valid, scores, np.nan), "minmax")[valid],
            "candidate_rank": place.astype(np.float64) + 1.0,
        }
        safe_ids = np.where(valid, ids, 0)
        for name, scorer in scorers:
            item_scores = np.take_along_axis(np.asarray(scorer._score(rows), dtype=np.float64), safe_ids, axis=1)
            item_scores[~valid] = np.nan
            columns[f"{name}_score"] = item_scores[valid]
            columns[f"{name}_score_norm"] = normalize_scores(item_scores, "minmax")[valid]
            # Rank among the user's candidates, 1 = the scorer's favourite.
            order = np.argsort(np.where(valid, -item_scores, np.inf), axis=1, kind="stable")
            ranks = np.empty_like(order)
            np.put_along_axis(ranks, order, np.arange(ids.shape[1])[None, :].repeat(len(ids), 0), axis=1)
            columns[f"{name}_rank"] = ranks[valid].astype(np.float64) + 1.0
        table = pd.DataFrame(columns)
        if features is not None and len(table):
            pairs = pd.DataFrame({"user": row_of_pair.astype(np.int64), "item": ids[valid]})
            item_part = features.set_output(transform="pandas").transform(pairs)
            events = _events_frame(rows)
            if events.empty:
                # Only empty rows: PairFeatures needs events to fit, so give it one of a user
                # id no pair has; every pair then gets its documented unseen-user values.
                events = pd.DataFrame({"user": [-1], "item": [0]})
            user_part = (clone(self._features_template()).set_params(item_stats=False, models=[])
                         .set_output(transform="pandas").fit(events).transform(pairs))
            extra = pd.concat([user_part, item_part], axis=1)
            extra = extra.loc[:, ~extra.columns.duplicated()]
            table = pd.concat([table, extra.reset_index(drop=True)], axis=1)
        return ids, table

    # ------------------------------------------------------------------ recommend
    def _ranker_threads(self):
        if self.n_threads is None:
            return nullcontext()
        limits = ExitStack()
        limits.enter_context(threadpool_limits(limits=self.n_threads, user_api="openmp"))
        # A loaded default ranker scores with a numba kernel, which OpenMP limits need not reach.
        limits.enter_context(numba_threads(self.n_threads))
        return limits

    def _ranker_scores(self, table):
        if is_classifier(self.ranker_):
            if hasattr(self.ranker_, "predict_proba"):
                return self.ranker_.predict_proba(table)[:, list(self.ranker_.classes_).index(1)]
            return self.ranker_.decision_function(table)
        return self.ranker_.predict(table)

    def _score(self, X):
        """Scores of every item: the ranker's score on the candidates, -inf elsewhere."""
        ids, scores = self._rerank(X, self.n_candidates, exclude_seen=False, items=None)
        dense = np.full((X.shape[0], self.n_items_), -np.inf)
        row, place = np.nonzero(ids >= 0)
        dense[row, ids[row, place]] = scores[row, place]
        return dense

    def _rerank(self, X, n_candidates, exclude_seen, items):
        ids, table = self._candidate_table(self.candidates_, self.scorers_, self.features_, X, n_candidates,
                                           exclude_seen, items)
        scores = np.full(ids.shape, -np.inf)
        valid = ids >= 0
        if valid.any():
            with self._ranker_threads():
                scores[valid] = self._ranker_scores(table[list(self.feature_names_)])
        # Best first; ties keep stage one's order (a stable sort on the negated score).
        order = np.argsort(-scores, axis=1, kind="stable")
        ids, scores = np.take_along_axis(ids, order, axis=1), np.take_along_axis(scores, order, axis=1)
        ids[~np.isfinite(scores)] = -1
        return ids, scores

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        """Recommend n items to each row of X: stage one's candidates, reordered by the ranker.

        Parameters
        ----------
        X : sparse matrix of shape (n_rows, n_items) or Interactions
            Interactions of the users to recommend to (fold-in).
        n : int, default=10
            When n > n_candidates, n candidates are retrieved.
        exclude_seen : bool, default=True
        items : array-like of int, default=None
            Restrict stage one (and so the result) to these items.

        Returns
        -------
        ids : ndarray of shape (n_rows, n), int64
            -1 where stage one found fewer than n candidates (e.g. a user
            who has seen every item).
        scores : ndarray of shape (n_rows, n)
            The ranker's scores; -inf where the id is -1.
        """
        X = self._validate_for_recommend(X)
        self._allowed_items(n, items)
        ids, scores = self._rerank(X, max(n, self.n_candidates), exclude_seen, items)
        return ids[:, :n], scores[:, :n]

    def feature_contributions(self, X, n=10):
        """Per-feature contributions (SHAP values) to the ranker's score of each recommended item.

        Available for the LightGBM and XGBoost rankers (``pred_contrib`` /
        ``pred_contribs``); scikit-learn's gradient boosting has no exact
        per-prediction attribution, so use ``feature_importances_`` there.

        Parameters
        ----------
        X : sparse matrix of shape (n_rows, n_items)
        n : int, default=10

        Returns
        -------
        DataFrame
            One row per recommended (row, item), with ``row``, ``item``,
            ``rank``, one column per feature and ``bias``; the contributions
            of a row sum to the ranker's raw score.
        """
        X = self._validate_for_recommend(X)
        self._allowed_items(n, None)
        module = ranker_library(self.ranker_)
        if module not in ("lightgbm", "xgboost"):
            raise ValueError(
                f"feature_contributions needs a LightGBM or XGBoost ranker; this model's ranker is "
                f"{type(self.ranker_).__name__}. Use feature_importances_, or ranker='lambdarank'."
            )
        top_ids, _ = self.recommend(X, n=n)
        ids, table = self._candidate_table(self.candidates_, self.scorers_, self.features_, X,
                                           max(n, self.n_candidates), True, None)
        row_of_pair, _ = np.nonzero(ids >= 0)
        item_of_pair = ids[ids >= 0]
        table = table[list(self.feature_names_)]
        with self._ranker_threads():
            if module == "lightgbm":
                contributions = self.ranker_.predict(table, pred_contrib=True)
            else:
                import xgboost

                contributions = self.ranker_.get_booster().predict(xgboost.DMatrix(table), pred_contribs=True)
        frame = pd.DataFrame(contributions, columns=[*self.feature_names_, "bias"])
        frame.insert(0, "item", item_of_pair)
        frame.insert(0, "row", row_of_pair)
        rank = {(row, item): place + 1 for row in range(len(top_ids)) for place, item in enumerate(top_ids[row])
                if item >= 0}
        frame.insert(2, "rank", [rank.get(key, 0) for key in zip(row_of_pair, item_of_pair)])
        return frame[frame["rank"] > 0].sort_values(["row", "rank"]).reset_index(drop=True)
