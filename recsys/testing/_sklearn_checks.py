"""The scikit-learn estimator checks a recsys estimator is expected to fail, with the reason.

One list for the whole package: :class:`~recsys.testing.RecommenderContract`,
:class:`~recsys.testing.RatingPredictorContract` and ``tests/test_sklearn_checks.py``
(``parametrize_with_checks`` over every public estimator) all take it from
:func:`expected_failed_checks`, which has the signature scikit-learn's
``parametrize_with_checks(..., expected_failed_checks=...)`` and
``check_estimator(..., expected_failed_checks=...)`` expect. Every other check
must pass.

A reason says why the check cannot apply (the estimator's input is not a
feature matrix), or, for a check that could pass, "not yet:" and where the fix
belongs; those are listed so the whole suite runs in CI, strictly: a listed
check that starts passing fails the run until it is taken off the list.
"""

# ---------------------------------------------------------------- rating predictors
_NOT_PAIRS = ("X is (user, item) id pairs, two columns; the check generates a feature matrix of "
              "another width, which fit refuses")
_REPEATED_PAIRS = ("the check's X repeats (user, item) pairs, which fit refuses unless told how to "
                   "merge their ratings (fit(X, y, duplicates=...))")

RATING_PREDICTOR_EXPECTED_FAILURES = {
    **dict.fromkeys([
        "check_fit_score_takes_y", "check_dont_overwrite_parameters", "check_n_features_in_after_fitting",
        "check_estimators_dtypes", "check_dtype_object", "check_pipeline_consistency",
        "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_regressors_train",
        "check_regressor_data_not_an_array", "check_regressors_no_decision_function",
        "check_supervised_y_2d", "check_regressors_int", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature",
        "check_dict_unchanged", "check_fit2d_predict1d",
    ], _NOT_PAIRS),
    **dict.fromkeys([
        "check_estimators_overwrite_params", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_fit_idempotent", "check_fit_check_is_fitted",
        "check_n_features_in",
    ], _REPEATED_PAIRS),
    "check_positive_only_tag_during_fit": _NOT_PAIRS + " (ids may be any hashable, negatives included)",
    "check_estimators_nan_inf": _NOT_PAIRS + " (NaN ratings and missing ids are refused with their own error)",
}

# ---------------------------------------------------------------- top-N recommenders

RECOMMENDER_EXPECTED_FAILURES = {
    "check_dtype_object": ("object arrays are refused on purpose: interaction matrices are numeric, and "
                           "an object array is almost always ids passed by mistake"),
}

# Failures of one estimator beyond those of its kind, by class name.
_CLASS_EXPECTED_FAILURES = {
    "PureSVD": {
        "check_fit2d_1sample": "the error names n_factors > min(n_users, n_items), not the single sample",
        "check_fit2d_1feature": "the error names n_factors > min(n_users, n_items), not the single item",
    },
}

_BINARY_SETS = ("X is a binary set-membership matrix (or token lists); the check's continuous "
                "features are refused with an error saying to binarise them")
_SET_INDEX_FAILURES = {
    **dict.fromkeys([
        "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self", "check_readonly_memmap_input",
        "check_n_features_in_after_fitting", "check_estimators_dtypes", "check_dtype_object",
        "check_pipeline_consistency",
        "check_estimators_pickle", "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_fit2d_1sample",
        "check_fit2d_1feature", "check_dict_unchanged", "check_fit_idempotent", "check_fit_check_is_fitted",
        "check_n_features_in", "check_fit2d_predict1d",
    ], _BINARY_SETS),
    "check_estimators_empty_data_messages": "not yet: empty input is not refused in scikit-learn's wording (recsys/hashing)",
    "check_estimators_nan_inf": _BINARY_SETS + " (NaN is not 0 or 1 and is refused as such)",
    **dict.fromkeys(["check_estimator_sparse_tag", "check_estimator_sparse_array", "check_estimator_sparse_matrix"],
                    _BINARY_SETS + " (sparse set matrices are accepted, as the sparse tag says)"),
}
_CLASS_EXPECTED_FAILURES["MinHashLSH"] = _SET_INDEX_FAILURES
_CLASS_EXPECTED_FAILURES["MinHashLSHForest"] = _SET_INDEX_FAILURES
_CLASS_EXPECTED_FAILURES["ContainmentLSH"] = _SET_INDEX_FAILURES
_CLASS_EXPECTED_FAILURES["WeightedMinHasher"] = {
    "check_estimators_dtypes": ("a row without a positive weight has no weighted MinHash and is refused; "
                                "the check's integer cast of its data leaves such rows"),
}
_CLASS_EXPECTED_FAILURES["MinHasher"] = {
    **{name: _BINARY_SETS for name in (
        "check_fit_score_takes_y", "check_estimators_dtypes", "check_dtype_object", "check_pipeline_consistency",
        "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_transformer_general",
        "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_dict_unchanged", "check_fit_idempotent",
        "check_transformer_data_not_an_array")},
}
_CLASS_EXPECTED_FAILURES["CooccurrenceEmbedding"] = {
    "check_dtype_object": RECOMMENDER_EXPECTED_FAILURES["check_dtype_object"],
    "check_fit2d_1feature": "n_components must be below the number of items: the error names n_components",
}


# ---------------------------------------------------------------- preprocessing, pipelines, ensembles
_CLASS_EXPECTED_FAILURES["InteractionWeighter"] = {
    "check_dtype_object": RECOMMENDER_EXPECTED_FAILURES["check_dtype_object"],
}
# A pipeline is not a BaseRecommender, but its input is validated by the same
# recsys.utils.check_interaction_matrix.
_CLASS_EXPECTED_FAILURES["RecommenderPipeline"] = {
    **RECOMMENDER_EXPECTED_FAILURES,
    **dict.fromkeys(
        ["check_estimators_overwrite_params", "check_dont_overwrite_parameters"],
        "a scikit-learn Pipeline fits the estimators of its steps parameter in place, "
        "as sklearn.pipeline.Pipeline itself does"),
}
_NO_LABELLED_LISTS = ("fit trains the ranker on validation users whose held-out items are among stage one's "
                      "candidates; the check's tiny random matrix has none, and fit refuses it saying so")
_CLASS_EXPECTED_FAILURES["TwoStageRecommender"] = {
    **dict.fromkeys([
        "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_estimators_dtypes", "check_pipeline_consistency",
        "check_estimators_nan_inf", "check_estimators_pickle", "check_f_contiguous_array_estimator",
        "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
    ], _NO_LABELLED_LISTS),
    **dict.fromkeys(["check_fit2d_1sample", "check_fit2d_1feature"],
                    "the error says validation_size leaves no user (or item) to train the ranker on, "
                    "not scikit-learn's wording"),
}
# A meta-estimator, not a BaseRatingPredictor: the checks rating predictors
# fail, for the same reasons, plus those its members' validation words its own way.
_CLASS_EXPECTED_FAILURES["FeatureWeightedStacking"] = {
    **RATING_PREDICTOR_EXPECTED_FAILURES,
    **dict.fromkeys(["check_estimator_sparse_tag", "check_estimator_sparse_array",
                     "check_estimator_sparse_matrix", "check_complex_data",
                     "check_estimators_empty_data_messages", "check_requires_y_none"],
                    "not yet: refused by recsys.utils.check_pairs/check_ratings in recsys's wording, "
                    "not scikit-learn's (recsys/ensemble/_feature_weighted_stacking.py)"),
}

# ---------------------------------------------------------------- recsys.neural (the neural extra)
_NOT_PREFERENCE_PAIRS = ("X is (chosen, rejected) pairs of item ids or texts, two columns; the check generates "
                         "a feature matrix of another width, which fit refuses")
_CLASS_EXPECTED_FAILURES["BradleyTerry"] = {
    **dict.fromkeys([
        "check_fit_score_takes_y", "check_dont_overwrite_parameters", "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_sample_weights_list",
        "check_all_zero_sample_weights_error", "check_sample_weight_equivalence_on_dense_data",
        "check_complex_data", "check_dtype_object", "check_estimators_empty_data_messages",
        "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimator_sparse_tag",
        "check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimators_pickle",
        "check_f_contiguous_array_estimator", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
        "check_fit2d_predict1d",
    ], _NOT_PREFERENCE_PAIRS),
    "check_fit_idempotent": ("predict gives the reward of each item of a 1-d X (fit's pairs are 2-d); the "
                             "check predicts on fit's 2-d X"),
    "check_n_features_in": "X holds item ids or texts, not features: there is no n_features_in_",
}


def expected_failed_checks(estimator):
    """``{check name: reason}`` of the scikit-learn checks ``estimator`` is expected to fail.

    Pass it as ``expected_failed_checks`` to scikit-learn's
    ``parametrize_with_checks`` (which calls it with each estimator) or the
    result to ``check_estimator``.
    """
    from recsys.base import BaseRatingPredictor, BaseRecommender

    failures = {}
    if isinstance(estimator, BaseRatingPredictor):
        failures.update(RATING_PREDICTOR_EXPECTED_FAILURES)
    elif isinstance(estimator, BaseRecommender):
        failures.update(RECOMMENDER_EXPECTED_FAILURES)
    failures.update(_CLASS_EXPECTED_FAILURES.get(type(estimator).__name__, {}))
    return failures


def assert_sklearn_checks_pass(estimator, extra_expected_failures=None):
    """Run every scikit-learn estimator check on ``estimator``; fail on any not listed as expected.

    Parameters
    ----------
    estimator : estimator instance
    extra_expected_failures : dict of str to str, default=None
        Further ``{check name: reason}`` for this estimator (a third-party
        model reusing a recsys contract may need its own).
    """
    from sklearn.utils.estimator_checks import check_estimator

    expected = {**expected_failed_checks(estimator), **(extra_expected_failures or {})}
    results = check_estimator(estimator, expected_failed_checks=expected, on_fail=None, on_skip=None)
    failed = {result["check_name"]: f"{type(result['exception']).__name__}: {result['exception']}"[:300]
              for result in results if result["status"] == "failed"}
    assert not failed, f"scikit-learn checks failed for {estimator!r}:\n" + "\n".join(
        f"  {name}: {error}" for name, error in failed.items())
