"""One vocabulary for the factor models, old names deprecated aliases for one release.

ALS, BPR and LMF take n_factors and n_epochs (implicit's factors and
iterations); BiasedMF, SVDpp and ALSRating take regularization (Surprise's reg).
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from recsys.factorization import ALS, BPR, LMF, ALSRating, BiasedMF, SVDpp
from recsys.testing import contract_data
from recsys.testing._rating_contract import rating_contract_data

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


RATING_MODELS = [BiasedMF, SVDpp, ALSRating]


@pytest.fixture(scope="module")
def ratings():
    return rating_contract_data(n_users=40, n_items=25)


@pytest.mark.parametrize("model_class", RATING_MODELS)
def test_reg_warns_and_fits_what_regularization_fits(model_class, ratings):
    X, y = ratings
    new = model_class(n_factors=3, n_epochs=3, regularization=0.3, random_state=0).fit(X, y)
    with pytest.warns(FutureWarning, match=r"\(reg=\.\.\.\) is deprecated .* use regularization="):
        old = model_class(n_factors=3, n_epochs=3, reg=0.3, random_state=0).fit(X, y)
    default = model_class(n_factors=3, n_epochs=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(old.predict(X), new.predict(X))
    assert not np.array_equal(old.predict(X), default.predict(X))  # reg's value is the one used


@pytest.mark.parametrize("model_class", RATING_MODELS)
def test_regularization_does_not_warn_and_reg_stays_a_parameter(model_class, recwarn, ratings):
    model = model_class(n_factors=3, n_epochs=2, regularization=0.3, random_state=0)
    assert model.get_params()["reg"] == "deprecated"
    model.fit(*ratings)
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]
    assert clone(model_class(reg=0.5)).get_params()["reg"] == 0.5


@pytest.mark.parametrize("model_class", RATING_MODELS)
def test_an_invalid_reg_is_rejected_by_name(model_class, ratings):
    with pytest.raises(InvalidParameterError, match="'reg' parameter"), pytest.warns(FutureWarning):
        model_class(reg=-1.0).fit(*ratings)


def test_a_rating_model_saved_with_reg_loads_and_predicts_the_same(ratings, tmp_path):
    X, y = ratings
    with pytest.warns(FutureWarning):
        model = BiasedMF(n_factors=3, n_epochs=2, reg=0.3, random_state=0).fit(X, y)
    loaded = BiasedMF.load(model.save(tmp_path / "biased_mf"))
    assert loaded.get_params()["reg"] == 0.3
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_the_bench_builds_biased_mf_with_regularization():
    from recsys.bench import get_model

    assert get_model("biased-mf").build(regularization=0.1).regularization == 0.1
