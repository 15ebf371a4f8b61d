"""recsys.utils.PersistenceMixin: the file format and the checks load makes.

Every model's round trip and tampered files are tested through
recsys.testing.SaveLoadChecks in the model's own tests; here the parts of the
format no single model exercises.
"""

import json
import sys
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from recsys.utils import PersistenceMixin


class Toy(PersistenceMixin, BaseEstimator):
    """An estimator whose fit stores the attributes it is given."""

    _fitted_shapes: ClassVar[dict] = {"left_": ("n_rows_", "width"), "right_": ("n_rows_", "width")}
    _fitted_optional = ("left_", "right_")
    _fitted_nonfinite = ("scores_",)

    def __init__(self, dtype=np.float64, member=None):
        self.dtype = dtype
        self.member = member

    def fit(self, **attributes):
        vars(self).update(attributes)
        return self


def round_trip(model, tmp_path):
    return type(model).load(model.save(tmp_path / "model"))


def rewrite(path, change):
    with np.load(path, allow_pickle=False) as archive:
        entries = {key: archive[key] for key in archive.files}
    header = json.loads(str(entries["__header__"]))
    change(header, entries)
    entries["__header__"] = np.array(json.dumps(header))
    np.savez(path, **entries)
    return path


def test_sparse_formats_and_containers_come_back_as_saved(tmp_path):
    matrix = sp.random(6, 5, density=0.4, random_state=0, format="csr")
    model = Toy().fit(csr_=matrix, csc_=matrix.tocsc(), coo_=matrix.tocoo(),
                      array_=sp.csr_array(matrix), empty_=sp.csr_matrix((3, 0)))
    loaded = round_trip(model, tmp_path)
    for name in ("csr_", "csc_", "coo_", "array_", "empty_"):
        before, after = getattr(model, name), getattr(loaded, name)
        assert type(after) is type(before) and after.shape == before.shape
        assert (abs(after - before) > 0).nnz == 0


def test_index_object_ids_and_dtype_parameters_round_trip(tmp_path):
    model = Toy(dtype=np.dtype("float32")).fit(
        ids_=pd.Index(["a", "b", "c"]), numbers_=pd.Index([3, 1, 2]),
        mixed_=np.array(["x", 1, None], dtype=object), history_=[0.5, 0.25])
    loaded = round_trip(model, tmp_path)
    assert loaded.dtype == np.dtype("float32") and isinstance(loaded.dtype, np.dtype)
    assert Toy.load(Toy(dtype=np.float32).fit(a_=np.zeros(1)).save(tmp_path / "t")).dtype is np.float32
    pd.testing.assert_index_equal(loaded.ids_, model.ids_)
    pd.testing.assert_index_equal(loaded.numbers_, model.numbers_)
    assert loaded.mixed_.dtype == object and loaded.mixed_.tolist() == ["x", 1, None]
    assert loaded.history_ == [0.5, 0.25]


def test_ids_json_cannot_hold_are_refused_on_save(tmp_path):
    model = Toy().fit(ids_=np.array([b"raw"], dtype=object))
    with pytest.raises(ValueError, match="ids_ holds objects that JSON cannot store exactly"):
        model.save(tmp_path / "model")


def test_an_attribute_of_no_savable_type_says_to_declare_it_derived(tmp_path):
    with pytest.raises(ValueError, match="lock_ of type .*_derived_attributes"):
        Toy().fit(lock_=object()).save(tmp_path / "model")


def test_nested_estimators_round_trip(tmp_path):
    inner = Toy().fit(weights_=np.arange(3.0))
    model = Toy(member=Toy(dtype=np.float32)).fit(members_=[inner, Toy().fit(weights_=np.ones(2))],
                                                  best_=inner)
    loaded = round_trip(model, tmp_path)
    assert isinstance(loaded.member, Toy) and loaded.member.dtype is np.float32
    np.testing.assert_array_equal(loaded.members_[0].weights_, np.arange(3.0))
    np.testing.assert_array_equal(loaded.best_.weights_, np.arange(3.0))


@pytest.mark.parametrize(("qualified", "message"), [
    ("subprocess:Popen", "no scikit-learn estimator class"),
    ("recsys.utils:top_k", "no scikit-learn estimator class"),
    ("module_that_no_one_imported:Thing", "import module_that_no_one_imported before loading"),
])
def test_a_nested_class_is_created_only_when_it_is_an_imported_estimator(tmp_path, qualified, message):
    path = Toy(member=Toy()).fit(a_=np.zeros(2)).save(tmp_path / "model")
    rewrite(path, lambda header, _: header["params"]["member"]["__estimator__"].update(
        {"class": qualified, "params": {"args": "echo pwned"}}))
    modules_before = set(sys.modules)
    with pytest.raises(ValueError, match=message):
        Toy.load(path)
    assert "module_that_no_one_imported" not in set(sys.modules) - modules_before


def test_a_shared_free_dimension_names_both_attributes(tmp_path):
    path = Toy().fit(n_rows_=4, left_=np.zeros((4, 3)), right_=np.zeros((4, 3))).save(tmp_path / "m")
    rewrite(path, lambda _, entries: entries.update({"attr:right_": np.zeros((4, 2))}))
    with pytest.raises(ValueError, match=r"right_ has 2 along axis 1, but width is 3 \(the size in left_\)"):
        Toy.load(path)


def test_a_declared_dimension_read_from_the_file_must_be_a_count(tmp_path):
    path = Toy().fit(n_rows_=4, left_=np.zeros((4, 3)), right_=np.zeros((4, 3))).save(tmp_path / "m")
    rewrite(path, lambda header, _: header["attributes"]["n_rows_"].update({"value": 4.5}))
    with pytest.raises(ValueError, match="n_rows_ must be a non-negative int"):
        Toy.load(path)


def test_declared_non_finite_attributes_keep_their_inf(tmp_path):
    model = Toy().fit(scores_=np.array([1.0, -np.inf]))
    np.testing.assert_array_equal(round_trip(model, tmp_path).scores_, model.scores_)
    with pytest.raises(ValueError, match="other_ holds NaN or inf"):
        round_trip(Toy().fit(other_=np.array([np.nan])), tmp_path)
    with pytest.raises(ValueError, match="rmse_ holds NaN or inf"):
        round_trip(Toy().fit(rmse_=[1.0, float("nan")]), tmp_path)


def test_format_1_files_still_load(tmp_path):
    # What recsys 0.1.0's save wrote: class by bare name, raw JSON attributes, no dtypes.
    header = {"format_version": 1, "class": "Toy", "params": {"dtype": "float32", "member": None},
              "attributes": {"n_rows_": 2, "ids_": {"object_array": ["a", "b"]}}}
    np.savez(tmp_path / "old.npz", __header__=np.array(json.dumps(header)),
             **{"attr:left_": np.ones((2, 1)), "attr:right_": np.ones((2, 1))})
    loaded = Toy.load(tmp_path / "old")
    assert loaded.n_rows_ == 2 and loaded.ids_.tolist() == ["a", "b"]
    np.testing.assert_array_equal(loaded.left_, np.ones((2, 1)))


def test_a_header_that_is_not_json_says_the_file_is_damaged(tmp_path):
    path = Toy().fit(a_=np.zeros(1)).save(tmp_path / "m")
    with np.load(path, allow_pickle=False) as archive:
        entries = {key: archive[key] for key in archive.files}
    entries["__header__"] = np.array("{not json")
    np.savez(path, **entries)
    with pytest.raises(ValueError, match="header is not the JSON object save writes"):
        Toy.load(path)
