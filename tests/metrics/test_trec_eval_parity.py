"""Our ranking metrics against trec_eval (through pytrec_eval) on random graded cases."""

import numpy as np
import pytest

from recsys.metrics import map_at_k, mrr_at_k, ndcg_at_k, precision_at_k, recall_at_k

pytestmark = pytest.mark.peers


def _random_case(seed, n_users=60, n_items=30, width=12):
    rng = np.random.default_rng(seed)
    y_true = np.where(rng.random((n_users, n_items)) < 0.15, rng.integers(1, 4, (n_users, n_items)), 0)
    y_true[:5] = 0  # users without any relevant item
    y_pred = np.argsort(rng.random((n_users, n_items)), axis=1)[:, :width]
    lengths = rng.integers(1, width + 1, n_users)
    y_pred[np.arange(width) >= lengths[:, None]] = -1  # short lists, -1 padded
    return y_true, y_pred


def _trec_eval(y_true, y_pred, measures):
    pytrec_eval = pytest.importorskip("pytrec_eval")
    qrels = {
        f"u{u}": {f"i{i}": int(y_true[u, i]) for i in np.flatnonzero(y_true[u])}
        for u in range(len(y_true)) if y_true[u].any()
    }
    # trec_eval sorts by score, breaking ties by reverse docid: distinct
    # decreasing scores keep our order.
    run = {
        f"u{u}": {f"i{i}": float(len(ranked) - place) for place, i in enumerate(ranked) if i >= 0}
        for u, ranked in enumerate(y_pred)
    }
    return pytrec_eval.RelevanceEvaluator(qrels, set(measures)).evaluate(run)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 5, 10])
def test_cut_metrics_match_trec_eval(seed, k):
    y_true, y_pred = _random_case(seed)
    results = _trec_eval(y_true, y_pred, {f"{measure}.{k}" for measure in ("P", "recall", "ndcg_cut", "map_cut")})
    ours = {
        f"P_{k}": precision_at_k(y_true, y_pred, k=k, average=False),
        f"recall_{k}": recall_at_k(y_true, y_pred, k=k, average=False),
        f"ndcg_cut_{k}": ndcg_at_k(y_true, y_pred, k=k, average=False),
        f"map_cut_{k}": map_at_k(y_true, y_pred, k=k, average=False),
    }
    evaluated = 0
    for user in range(len(y_true)):
        if not y_true[user].any():
            assert all(np.isnan(values[user]) for values in ours.values())
            continue
        for measure, values in ours.items():
            assert values[user] == pytest.approx(results[f"u{user}"][measure], abs=1e-9), (measure, user)
        evaluated += 1
    assert evaluated == int(y_true.any(axis=1).sum()) > len(y_true) // 2


@pytest.mark.parametrize("seed", [0, 1])
def test_reciprocal_rank_matches_trec_eval_over_the_whole_list(seed):
    y_true, y_pred = _random_case(seed)
    results = _trec_eval(y_true, y_pred, {"recip_rank"})
    ours = mrr_at_k(y_true, y_pred, k=y_pred.shape[1], average=False)
    for user in np.flatnonzero(y_true.any(axis=1)):
        assert ours[user] == pytest.approx(results[f"u{user}"]["recip_rank"], abs=1e-9)
