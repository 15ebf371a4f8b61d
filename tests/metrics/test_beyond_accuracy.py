import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import mean_absolute_error, mean_squared_error, roc_auc_score

from recsys.metrics import (
    auc_score,
    catalog_coverage,
    gini_index,
    intra_list_diversity,
    mae,
    novelty,
    rmse,
)


def test_catalog_coverage_counts_distinct_items_in_top_k():
    y_pred = np.array([[0, 1, 5], [1, -1, -1]])
    assert catalog_coverage(y_pred, n_items=6, k=2) == pytest.approx(2 / 6)
    assert catalog_coverage(y_pred, n_items=6, k=3) == pytest.approx(3 / 6)


def test_gini_is_zero_for_equal_exposure_and_grows_with_concentration():
    assert gini_index(np.array([[0, 1], [2, 3]]), n_items=4, k=2) == pytest.approx(0.0)
    # Exposures (0, 0, 0, 2): G = (3 * 2) / (4 * 2).
    assert gini_index(np.array([[3], [3]]), n_items=4, k=1) == pytest.approx(0.75)
    assert np.isnan(gini_index(np.array([[-1]]), n_items=4, k=1))


def test_novelty_is_mean_self_information():
    X_train = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]]))
    per_user = novelty(np.array([[0, 1], [2, -1], [-1, -1]]), X_train, k=2, average=False)
    # Item 2 was never seen: it counts as seen by one user, log2(4 / 1).
    np.testing.assert_allclose(per_user[:2], [(0 + 2) / 2, 2.0])
    assert np.isnan(per_user[2])
    assert novelty(np.array([[0, 1], [2, -1]]), X_train, k=2) == pytest.approx(1.5)


def test_intra_list_diversity_matches_pairwise_cosine_distances():
    rng = np.random.default_rng(0)
    features = rng.random((8, 4))
    features[5] = 0.0
    y_pred = np.array([[0, 1, 5, 7], [2, 3, -1, -1], [4, -1, -1, -1]])
    per_user = intra_list_diversity(y_pred, sp.csr_matrix(features), k=4, average=False)
    for user, ranked in enumerate(y_pred[:2]):
        items = ranked[ranked >= 0]
        norms = np.linalg.norm(features[items], axis=1)
        unit = np.divide(features[items], norms[:, None], out=np.zeros_like(features[items]),
                         where=norms[:, None] > 0)
        similarity = unit @ unit.T
        off_diagonal = similarity[~np.eye(len(items), dtype=bool)]
        assert per_user[user] == pytest.approx(1 - off_diagonal.mean())
    assert np.isnan(per_user[2])
    assert intra_list_diversity(y_pred, features, k=4) == pytest.approx(np.nanmean(per_user))


def test_auc_matches_sklearn_per_user_with_ties_and_exclusions():
    rng = np.random.default_rng(0)
    y_true = (rng.random((20, 15)) < 0.3).astype(int)
    y_true[0] = 0
    scores = rng.integers(0, 5, (20, 15)).astype(float)  # many ties
    exclude = rng.random((20, 15)) < 0.2
    per_user = auc_score(y_true, scores, exclude=sp.csr_matrix(exclude), average=False)
    assert np.isnan(per_user[0])
    for user in range(1, 20):
        keep = ~exclude[user]
        labels = y_true[user, keep]
        if 0 < labels.sum() < len(labels):
            assert per_user[user] == pytest.approx(roc_auc_score(labels, scores[user, keep]))
        else:
            assert np.isnan(per_user[user])


def test_auc_nan_scores_are_not_candidates():
    y_true = np.array([[1, 0, 0, 1]])
    assert auc_score(y_true, np.array([[3.0, 2.0, 1.0, np.nan]])) == 1.0
    with pytest.raises(ValueError, match="shape"):
        auc_score(y_true, np.ones((1, 3)))


def test_rating_errors_match_sklearn():
    y_true, y_pred = [4, 3, 5, 1], [3.5, 3, 4, 2]
    assert rmse(y_true, y_pred) == pytest.approx(np.sqrt(mean_squared_error(y_true, y_pred)))
    assert mae(y_true, y_pred) == pytest.approx(mean_absolute_error(y_true, y_pred))
    with pytest.raises(ValueError, match="ratings"):
        rmse([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="NaN"):
        mae([1, np.nan], [1, 2])


def test_beyond_accuracy_rejects_bad_lists():
    with pytest.raises(ValueError, match="outside"):
        catalog_coverage(np.array([[0, 7]]), n_items=4, k=2)
    with pytest.raises(ValueError, match="k=3"):
        gini_index(np.array([[0, 1]]), n_items=4, k=3)
    with pytest.raises(ValueError, match="n_items"):
        catalog_coverage(np.array([[0]]), n_items=0, k=1)
