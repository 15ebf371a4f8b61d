import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks

from recsys.hashing import (
    ContainmentLSH,
    CosineLSH,
    EuclideanLSH,
    MinHasher,
    MinHashLSH,
    MinHashLSHForest,
    WeightedMinHasher,
)

# The scikit-learn checks that apply to estimators whose fit takes sets or
# signatures and which have neither predict nor a numeric-only transform.
CHECKS = (
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_estimator_cloneable",
    "check_do_not_raise_errors_in_init_or_set_params",
)

ESTIMATORS = [MinHasher(n_perm=16), MinHashLSH(n_perm=16), MinHashLSHForest(n_perm=16, n_trees=4),
              CosineLSH(n_bits=8, seed=0), EuclideanLSH(seed=0), ContainmentLSH(n_perm=16),
              WeightedMinHasher(n_perm=8)]


@pytest.mark.parametrize("check_name", CHECKS)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_sklearn_checks(estimator, check_name):
    getattr(estimator_checks, check_name)(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS[1:3], ids=lambda e: type(e).__name__)
def test_set_indexes_clone_fit_and_pickle(estimator):
    words = [f"w{i}" for i in range(25)]
    sets = [words, words[:23], ["a", "b", "c"]]
    fitted = clone(estimator).fit(sets)
    restored = pickle.loads(pickle.dumps(fitted))
    first, second = fitted.kneighbors([words], n_neighbors=2), restored.kneighbors([words], n_neighbors=2)
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1].tolist() == second[1].tolist()
    assert first[1][0, 0] == 0


def test_unfitted_index_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MinHashLSH().query([["a"]])
    with pytest.raises(NotFittedError):
        MinHasher().transform([["a"]])
