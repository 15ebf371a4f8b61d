"""Every public function of recsys.metrics leaves its inputs as they were.

Each is called on non-canonical matrices (unsorted indices, duplicates,
explicit zeros, float64, COO) as well as canonical ones and dense arrays, and
every array it was given is compared with a copy taken before the call. A
function added to ``recsys.metrics.__all__`` without a recipe here fails
``test_every_metric_has_a_recipe``.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from recsys import metrics
from recsys.baselines import PopularityRecommender
from recsys.testing._contract import (
    INPUT_LAYOUTS,
    assert_input_unchanged,
    contract_data,
    non_canonical_input,
    snapshot_input,
)

N_USERS, N_ITEMS, K = 60, 40, 5


def _inputs(layout):
    """All the inputs any metric takes; the matrices in ``layout`` (or dense)."""
    relevance = contract_data(N_USERS, N_ITEMS, density=0.15, random_state=1)
    training = contract_data(N_USERS, N_ITEMS, density=0.15, random_state=2)
    rng = np.random.default_rng(0)
    ranked = np.argsort(rng.random((N_USERS, N_ITEMS)), axis=1)[:, :2 * K].astype(np.int64)
    ranked[::7, -3:] = -1  # short lists, padded

    def shaped(matrix):
        return matrix.toarray() if layout == "dense" else non_canonical_input(matrix, layout)

    return {
        "y_true": shaped(relevance),
        "X_train": shaped(training),
        "exclude": shaped(training),
        "y_pred": ranked,
        "y_score": rng.random((N_USERS, N_ITEMS)),
        "item_features": rng.random((N_ITEMS, 6)),
        "ratings_true": rng.random(50) * 4 + 1,
        "ratings_pred": rng.random(50) * 4 + 1,
    }


def _scorer(inputs):
    model = PopularityRecommender().fit(inputs["X_train"])
    return metrics.make_ranking_scorer("ndcg", k=K)(model, inputs["y_true"])


# name -> (names of the inputs it reads, call)
RECIPES = {
    "auc_score": (("y_true", "y_score", "exclude"),
                  lambda i: metrics.auc_score(i["y_true"], i["y_score"], exclude=i["exclude"])),
    "catalog_coverage": (("y_pred",), lambda i: metrics.catalog_coverage(i["y_pred"], N_ITEMS, k=K)),
    "f1_at_k": (("y_true", "y_pred"), lambda i: metrics.f1_at_k(i["y_true"], i["y_pred"], k=K)),
    "gini_index": (("y_pred",), lambda i: metrics.gini_index(i["y_pred"], N_ITEMS, k=K)),
    "hit_rate_at_k": (("y_true", "y_pred"),
                      lambda i: metrics.hit_rate_at_k(i["y_true"], i["y_pred"], k=K)),
    "intra_list_diversity": (("y_pred", "item_features"),
                             lambda i: metrics.intra_list_diversity(i["y_pred"], i["item_features"], k=K)),
    "mae": (("ratings_true", "ratings_pred"), lambda i: metrics.mae(i["ratings_true"], i["ratings_pred"])),
    "make_ranking_scorer": (("y_true", "X_train"), _scorer),
    "map_at_k": (("y_true", "y_pred"), lambda i: metrics.map_at_k(i["y_true"], i["y_pred"], k=K)),
    "mrr_at_k": (("y_true", "y_pred"), lambda i: metrics.mrr_at_k(i["y_true"], i["y_pred"], k=K)),
    "ndcg_at_k": (("y_true", "y_pred"),
                  lambda i: metrics.ndcg_at_k(i["y_true"], i["y_pred"], k=K, gain="exponential")),
    "novelty": (("y_pred", "X_train"), lambda i: metrics.novelty(i["y_pred"], i["X_train"], k=K)),
    "precision_at_k": (("y_true", "y_pred"),
                       lambda i: metrics.precision_at_k(i["y_true"], i["y_pred"], k=K)),
    "ranking_from_scores": (("y_score", "exclude"),
                            lambda i: metrics.ranking_from_scores(i["y_score"], K, exclude=i["exclude"])),
    "ranking_report": (("y_true", "y_pred"),
                       lambda i: metrics.ranking_report(i["y_true"], i["y_pred"], ks=(2, K))),
    "recall_at_k": (("y_true", "y_pred"), lambda i: metrics.recall_at_k(i["y_true"], i["y_pred"], k=K)),
    "rmse": (("ratings_true", "ratings_pred"), lambda i: metrics.rmse(i["ratings_true"], i["ratings_pred"])),
    "split_rows": (("X_train",), lambda i: metrics.split_rows(i["X_train"], 0.5, random_state=0)),
}


def test_every_metric_has_a_recipe():
    assert sorted(RECIPES) == sorted(metrics.__all__)


@pytest.mark.parametrize("layout", [*INPUT_LAYOUTS, "dense"])
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_metric_leaves_inputs_unchanged(name, layout):
    if layout == "coo" and name == "split_rows":
        pytest.skip("split_rows takes CSR rows")
    read, call = RECIPES[name]
    inputs = _inputs(layout)
    before = {key: snapshot_input(inputs[key]) for key in read}
    call(inputs)
    for key in read:
        assert_input_unchanged(inputs[key], before[key], f"{name} ({key}, {layout})")


@pytest.mark.parametrize("layout", INPUT_LAYOUTS)
def test_ranking_metrics_agree_across_layouts(layout):
    canonical, shaped = _inputs("canonical"), _inputs(layout)
    for name in ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "mrr_at_k", "auc_score"):
        assert RECIPES[name][1](shaped) == pytest.approx(RECIPES[name][1](canonical)), name


def test_uint64_item_id_is_not_read_as_padding():
    y_true = sp.csr_matrix(np.eye(2))
    y_pred = np.array([[0, 2**64 - 1], [1, 0]], dtype=np.uint64)
    for call in (lambda: metrics.precision_at_k(y_true, y_pred, k=2),
                 lambda: metrics.catalog_coverage(y_pred, 2, k=2)):
        with pytest.raises(ValueError, match="18446744073709551615"):
            call()
