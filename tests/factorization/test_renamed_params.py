"""ALS, BPR and LMF take n_factors and n_epochs; implicit's factors and iterations are deprecated aliases."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from recsys.factorization import ALS, BPR, LMF
from recsys.testing import contract_data

MODELS = [ALS, BPR, LMF]


@pytest.fixture(scope="module")
def data():
    return contract_data(n_users=60, n_items=30)


@pytest.mark.parametrize("model_class", MODELS)
def test_old_names_warn_and_fit_what_the_new_names_fit(model_class, data):
    new = model_class(n_factors=4, n_epochs=3, random_state=0).fit(data)
    with pytest.warns(FutureWarning, match=r"factors=\.\.\.\) is deprecated .* use n_factors="):
        old = model_class(factors=4, iterations=3, random_state=0).fit(data)
    np.testing.assert_array_equal(old.item_factors_, new.item_factors_)
    np.testing.assert_array_equal(old.recommend(data[:5])[0], new.recommend(data[:5])[0])


@pytest.mark.parametrize("model_class", MODELS)
def test_new_names_do_not_warn_and_old_ones_stay_parameters(model_class, recwarn, data):
    model = model_class(n_factors=4, n_epochs=2, random_state=0)
    params = model.get_params()
    assert params["factors"] == params["iterations"] == "deprecated"
    model.fit(data)
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]
    cloned = clone(model_class(factors=5, random_state=0))
    assert cloned.get_params()["factors"] == 5


@pytest.mark.parametrize("model_class", MODELS)
def test_an_invalid_old_name_is_rejected_by_name(model_class, data):
    with pytest.raises(InvalidParameterError, match="'factors' parameter"), pytest.warns(FutureWarning):
        model_class(factors=0).fit(data)


def test_a_model_saved_with_the_old_names_loads_and_recommends_the_same(data, tmp_path):
    with pytest.warns(FutureWarning):
        model = ALS(factors=4, iterations=2, random_state=0).fit(data)
    loaded = ALS.load(model.save(tmp_path / "als"))
    assert loaded.get_params()["factors"] == 4
    np.testing.assert_array_equal(loaded.recommend(data[:5])[0], model.recommend(data[:5])[0])


def test_the_bench_builds_als_with_n_factors():
    from recsys.bench import get_model

    assert get_model("als").build(n_factors=32).n_factors == 32
