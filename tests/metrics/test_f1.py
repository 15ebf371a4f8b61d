"""f1_at_k against scikit-learn's f1_score on each user's top-k set, and in the ranking report."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import f1_score

from recsys.metrics import (
    f1_at_k,
    make_ranking_scorer,
    precision_at_k,
    ranking_report,
    recall_at_k,
)


def _random_case(seed, n_users=40, n_items=30, k=7):
    rng = np.random.default_rng(seed)
    y_true = sp.random(n_users, n_items, density=0.15, random_state=rng, format="csr")
    y_pred = np.argsort(rng.random((n_users, n_items)), axis=1)[:, :k]
    return y_true, y_pred, k


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_f1_of_each_top_k_set(seed):
    y_true, y_pred, k = _random_case(seed)
    per_user = f1_at_k(y_true, y_pred, k=k, average=False)
    dense = y_true.toarray() > 0
    for user in range(dense.shape[0]):
        if not dense[user].any():
            assert np.isnan(per_user[user])
            continue
        predicted = np.zeros(dense.shape[1], dtype=bool)
        predicted[y_pred[user]] = True
        assert per_user[user] == pytest.approx(f1_score(dense[user], predicted, zero_division=0.0))


def test_harmonic_mean_of_precision_and_recall_with_padding():
    y_true = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    y_pred = np.array([[0, 3, -1], [1, 2, 3], [0, 1, 2]])
    precision = precision_at_k(y_true, y_pred, k=3, average=False)
    recall = recall_at_k(y_true, y_pred, k=3, average=False)
    f1 = f1_at_k(y_true, y_pred, k=3, average=False)
    # User 0: P = 1/3 (padding counts against it), R = 1/3; user 1: no hit; user 2: nothing relevant.
    np.testing.assert_allclose(f1[:2], [1 / 3, 0.0])
    assert np.isnan(f1[2])
    np.testing.assert_allclose(f1[0], 2 * precision[0] * recall[0] / (precision[0] + recall[0]))
    assert f1_at_k(y_true, y_pred, k=3) == pytest.approx(1 / 6)


def test_report_includes_f1_by_default():
    y_true, y_pred, _ = _random_case(3, k=10)
    report = ranking_report(y_true, y_pred, ks=(5, 10))
    assert "f1" in report.index
    for k in (5, 10):
        assert report.loc["f1", k] == pytest.approx(f1_at_k(y_true, y_pred, k=k))


def test_ranking_scorer_accepts_f1():
    from recsys.baselines import PopularityRecommender
    from recsys.datasets import make_interactions

    X = make_interactions(100, 30, density=0.15, random_state=0).to_csr()
    model = PopularityRecommender().fit(X)
    assert 0.0 <= make_ranking_scorer("f1", k=5)(model, X) <= 1.0


def test_bad_k_is_rejected():
    with pytest.raises(ValueError, match="k must be a positive integer"):
        f1_at_k(np.eye(3), np.zeros((3, 2), dtype=int), k=0)
