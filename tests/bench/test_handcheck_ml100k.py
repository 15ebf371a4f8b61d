"""The harness's per-user NDCG@10 of popularity on MovieLens 100K, recomputed in plain Python.

Reads u.data itself, redoes fold 0 of the strong protocol (KFold's shuffle,
split_rows' per-row random keys), ranks items by the number of distinct
training users and scores one user's top 10 with the textbook NDCG formula.
Only the random draws come from numpy, so that they are the same draws.
"""

import math

import numpy as np
import pytest

from recsys.bench import ModelEntry, run_benchmark
from recsys.datasets import load_dataset

N_FOLDS, SEED, K, FOLD_IN = 5, 0, 10, 0.8


def read_events(path):
    with open(path) as handle:
        return [tuple(int(field) for field in line.split("\t")[:2]) for line in handle]


def fold_zero_users(n_users):
    """The test rows of KFold(5, shuffle=True, random_state=0)'s first fold."""
    order = np.arange(n_users)
    np.random.RandomState(SEED).shuffle(order)
    order = order.tolist()
    first_size = n_users // N_FOLDS + (1 if n_users % N_FOLDS else 0)
    return sorted(order[:first_size])


def by_hand(events, user_position):
    """Fold-in, held-out, top 10 and NDCG@10 of the user at position user_position of fold 0's test rows."""
    user_ids = sorted({user for user, _ in events})
    item_ids = sorted({item for _, item in events})
    item_index = {item: index for index, item in enumerate(item_ids)}
    rows = {user: set() for user in user_ids}
    for user, item in events:
        rows[user].add(item_index[item])
    test_rows = fold_zero_users(len(user_ids))
    test_users = {user_ids[row] for row in test_rows}
    # split_rows draws one key per stored entry of the test matrix, row by row, in column order.
    keys = np.random.default_rng(SEED + 0).random(sum(len(rows[user_ids[row]]) for row in test_rows)).tolist()
    offset = 0
    for position, row in enumerate(test_rows):
        items = sorted(rows[user_ids[row]])
        row_keys = keys[offset:offset + len(items)]
        offset += len(items)
        if position == user_position:
            break
    n_keep = min(max(round(FOLD_IN * len(items)), 1), max(len(items) - 1, 1))
    shuffled = [item for _, item in sorted(zip(row_keys, items))]
    fold_in, held_out = set(shuffled[:n_keep]), set(shuffled[n_keep:])
    popularity = [0] * len(item_ids)
    for user in user_ids:
        if user not in test_users:
            for item in rows[user]:
                popularity[item] += 1
    ranking = sorted(range(len(item_ids)), key=lambda item: (-popularity[item], item))
    top = [item for item in ranking if item not in fold_in][:K]
    dcg = sum(1 / math.log2(rank + 2) for rank, item in enumerate(top) if item in held_out)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(K, len(held_out))))
    return {"user_id": user_ids[row], "n_items": len(items), "fold_in": len(fold_in),
            "held_out": sorted(held_out), "top10": top, "hits": sorted(held_out & set(top)),
            "ndcg": dcg / ideal}


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("user_position", [0, 7])
def test_pop_ndcg_of_one_user_matches_a_plain_python_computation(real_dataset, real_data_home, user_position):
    events = read_events(real_dataset("ml-100k", "u.data"))
    data = load_dataset("ml-100k", data_home=real_data_home, download=False)
    result = run_benchmark(data, [ModelEntry("pop")], protocol="strong", metrics=f"ndcg@{K}",
                           n_folds=N_FOLDS, random_state=SEED, keep_per_user=True)
    fold = result.folds[0]
    expected = by_hand(events, user_position)
    row = list(fold.users).index(data.user_index([expected["user_id"]])[0])
    assert fold.per_user[f"ndcg@{K}"][row] == pytest.approx(expected["ndcg"], abs=1e-12)
