"""Saving fitted estimators to ``.npz`` files and loading them back, without pickle.

A saved file is a numpy ``.npz`` archive read with ``allow_pickle=False``:

- ``__header__``: a JSON string with the save format version, the class
  (``"module:QualifiedName"``), the recsys version that wrote it, the
  constructor parameters and a description of every fitted attribute;
- ``attr:<name>``: a fitted numpy array (its dtype recorded in the header);
- ``sparse:<name>:data`` / ``:indices`` / ``:indptr``: the components of a
  fitted scipy.sparse matrix stored as CSR or CSC (shape, format and
  container type recorded in the header).

Python scalars, lists and dicts are stored in the header as JSON, arrays of
Python objects (string ids) as JSON lists, a ``pandas.Index`` as its values,
numpy dtype parameters by name. Estimators nested in the parameters (the
steps of a pipeline, the members of an ensemble) or in the fitted attributes
(``estimators_``) are stored the same way under their own names
(``estimators_/0/item_factors_``); on load their class is created only if
it is a scikit-learn estimator of recsys, of scikit-learn or of a module the
caller has already imported, so a file never makes load import a module
or call anything of its choosing.

``load`` checks what it reads before the model is used, so a damaged or
tampered file fails there, with a ``ValueError`` naming the attribute, and
not later with an IndexError, a wrong answer or NaN scores:

- generic checks: every float array, sparse matrix value and JSON number is
  finite; stored dtypes are the recorded ones; sparse components are
  consistent (index pointers start at 0, never decrease and end at the
  number of entries, column indices lie within the shape);
- declared checks: each class declares the layout of its fitted arrays in
  class attributes (merged along the class hierarchy), and one function
  here checks them:

  ``_fitted_shapes``
      attribute -> shape, a tuple of dimensions. A dimension is an int, the
      name of a fitted int attribute (``"n_items_"``) or of an int
      constructor parameter (``"n_factors"``), optionally ``"+ 1"``, or any
      other name, which then has to take the same value in every shape that
      uses it (``"n_components"``).
  ``_fitted_indices``
      integer attribute -> the dimension its values index, ``[0, n)``.
  ``_fitted_indptrs``
      integer attribute -> the attribute whose entries it delimits (CSR
      style index pointers).
  ``_fitted_unique``
      attributes whose values must be distinct (vocabularies).
  ``_fitted_optional``
      declared attributes that only some parameter settings fit.
  ``_fitted_nonfinite``
      float attributes whose NaN or inf carry a documented meaning.

  A class whose dimensions depend on its parameters (user- or item-based)
  defines them in ``_fitted_dimensions(state)``.
"""

import importlib
import json
import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from recsys import __version__

# Bumped when the layout of saved files changes. Format 1 (no recorded
# dtypes, class by bare name, no sparse matrices) is still read.
_SAVE_FORMAT_VERSION = 2
_READABLE_FORMATS = (1, 2)

_DIMENSION = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\+\s*(\d+))?\s*$")


def _npz_path(path):
    """The file numpy's savez writes for path: path itself if it ends in .npz, else path + .npz.

    An open file is returned as it is.
    """
    if not isinstance(path, (str, os.PathLike)):
        return path
    path = os.fspath(path)
    return Path(path if path.endswith(".npz") else f"{path}.npz")


def _qualified_name(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _declared(cls, name, kind):
    """Merge the class attribute ``name`` (a dict, or a tuple when kind is tuple) along the MRO."""
    merged = {} if kind is dict else set()
    for klass in reversed(cls.__mro__):
        value = vars(klass).get(name)
        if value:
            merged.update(value)
    return merged


class _Damaged(ValueError):
    pass


def _damaged(path, name, problem):
    return _Damaged(
        f"cannot load {path}: fitted attribute {name} {problem}. The file is damaged or was "
        "not written by this class's save; save the fitted model again."
    )


def _json_exact(value):
    """value after a JSON round trip, or TypeError when JSON cannot hold it."""
    return json.loads(json.dumps(value))


def _is_estimator(value):
    return isinstance(value, BaseEstimator)


def _holds_estimator(values):
    """Whether a list or tuple holds an estimator, directly or in a nested list or tuple."""
    return any(_is_estimator(item) or (isinstance(item, (list, tuple)) and _holds_estimator(item))
               for item in values)


def _is_dtype_like(value):
    return isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic))


def _is_config(value):
    """A configuration object of a recsys class that converts to and from a dict (a transformers config)."""
    return (type(value).__module__.split(".")[0] == "recsys" and callable(getattr(value, "to_dict", None))
            and callable(getattr(type(value), "from_dict", None)))


def _encode_param(owner, key, value, arrays):
    """A constructor parameter as JSON; dtypes, tuples, dicts, configs and estimators tagged."""
    if _is_config(value):
        try:
            values = _json_exact(value.to_dict())
        except TypeError:
            raise ValueError(f"cannot save {owner}: parameter {key} ({type(value).__name__}) holds values "
                             "that are not JSON.") from None
        return {"__config__": {"class": _qualified_name(type(value)), "values": values}}
    if _is_dtype_like(value):
        # dtype=np.float32 and dtype=np.dtype("float32") come back as they were given.
        return {"__dtype__": np.dtype(value).name,
                "form": "dtype" if isinstance(value, np.dtype) else "type"}
    if _is_estimator(value):
        return {"__estimator__": _encode_estimator(value, arrays, f"{key}/")}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode_param(owner, f"{key}/{i}", item, arrays)
                              for i, item in enumerate(value)]}
    if isinstance(value, list):
        return [_encode_param(owner, f"{key}/{i}", item, arrays) for i, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(name, str) for name in value):
        return {"__dict__": {name: _encode_param(owner, f"{key}/{name}", item, arrays)
                             for name, item in value.items()}}
    try:
        return _json_exact(value.item() if isinstance(value, np.generic) else value)
    except TypeError:
        raise ValueError(
            f"cannot save {owner}: parameter {key}={value!r} is not a JSON value; set it to an "
            "int, float, str, bool, None, a numpy dtype or an estimator before saving."
        ) from None


def _encode_estimator(estimator, arrays, prefix):
    """Class, parameters and public fitted attributes of estimator; its arrays go into ``arrays``.

    ``prefix`` names the estimator inside the file ("" for the saved model,
    ``"estimators_/0/"`` for a member), so every entry has a name of its own.
    """
    owner = type(estimator).__name__
    derived = getattr(estimator, "_derived_attributes", ())
    return {
        "class": _qualified_name(type(estimator)),
        "params": {name: _encode_param(owner, f"{prefix}{name}", value, arrays)
                   for name, value in estimator.get_params(deep=False).items()},
        "attributes": {name: _encode_attribute(owner, f"{prefix}{name}", value, arrays)
                       for name, value in vars(estimator).items()
                       if name.endswith("_") and not name.startswith("_") and name not in derived},
    }


def _encode_attribute(owner, key, value, arrays):
    """Describe the fitted attribute ``key`` for the header; its arrays go into ``arrays``."""
    if isinstance(value, pd.Index):
        described = _encode_attribute(owner, key, value.to_numpy(), arrays)
        return {**described, "index": True}
    if sp.issparse(value):
        stored = value if value.format in ("csr", "csc") else value.tocsr()
        for part in ("data", "indices", "indptr"):
            arrays[f"sparse:{key}:{part}"] = getattr(stored, part)
        return {"kind": "sparse", "format": value.format, "stored_format": stored.format,
                "shape": [int(n) for n in stored.shape], "sparray": isinstance(value, sp.sparray),
                "dtypes": {part: getattr(stored, part).dtype.str
                           for part in ("data", "indices", "indptr")}}
    if isinstance(value, np.ndarray) and value.dtype != object:
        arrays[f"attr:{key}"] = value
        return {"kind": "array", "dtype": value.dtype.str}
    if _is_estimator(value):
        check_is_fitted(value)
        return {"kind": "estimator", **_encode_estimator(value, arrays, f"{key}/")}
    if isinstance(value, (list, tuple)) and _holds_estimator(value):
        # (name, estimator) pairs too, as scikit-learn's compositions keep them.
        return {"kind": "list", "tuple": isinstance(value, tuple),
                "items": [_encode_attribute(owner, f"{key}/{i}", item, arrays) for i, item in enumerate(value)]}
    if isinstance(value, np.ndarray):
        values = value.tolist()
        try:
            exact = _json_exact(values) == values
        except TypeError:
            exact = False
        if not exact:
            raise ValueError(
                f"cannot save {owner}: fitted attribute {key} holds objects that JSON cannot "
                "store exactly; ids must be str, int, float, bool or None to be saved."
            )
        return {"kind": "object_array", "shape": list(value.shape), "values": values}
    if isinstance(value, np.generic):
        value = value.item()
    try:
        return {"kind": "json", "value": _json_exact(value)}
    except TypeError:
        raise ValueError(
            f"cannot save {owner}: fitted attribute {key} of type {type(value).__name__} is "
            "neither a numpy array, a scipy.sparse matrix, an estimator nor a JSON value; "
            "declare it in _derived_attributes and rebuild it in _rebuild_derived."
        ) from None


def _stored(entries, key, dtype, path):
    if key not in entries:
        name = key.split(":")[1]
        raise _damaged(path, name, f"is missing from the archive (no entry {key})")
    array = entries[key]
    if dtype is not None and array.dtype.str != dtype:
        raise _damaged(path, key.split(":")[1],
                       f"has dtype {array.dtype}, but was saved as {np.dtype(dtype)}")
    return array


def _decode_sparse(described, entries, path, key):
    data, indices, indptr = (
        _stored(entries, f"sparse:{key}:{part}", described["dtypes"][part], path)
        for part in ("data", "indices", "indptr"))
    shape = described.get("shape")
    if (not isinstance(shape, list) or len(shape) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise _damaged(path, key, f"has an invalid sparse shape {shape!r}")
    stored_format = described.get("stored_format")
    if stored_format not in ("csr", "csc"):
        raise _damaged(path, key, f"has an unknown sparse format {stored_format!r}")
    n_major, n_minor = shape if stored_format == "csr" else shape[::-1]
    for part, array in (("data", data), ("indices", indices), ("indptr", indptr)):
        if array.ndim != 1:
            raise _damaged(path, key, f"has a {array.ndim}-d {part} array; it must be 1-d")
    if indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        raise _damaged(path, key, "has non-integer sparse indices or index pointers")
    if len(indptr) != n_major + 1 or len(indices) != len(data):
        raise _damaged(path, key, f"has sparse components of lengths {len(data)} (data), "
                       f"{len(indices)} (indices), {len(indptr)} (indptr) that do not fit "
                       f"its shape {tuple(shape)}")
    if indptr[0] != 0 or indptr[-1] != len(indices) or (np.diff(indptr) < 0).any():
        raise _damaged(path, key, "has sparse index pointers that do not run from 0 to the "
                       "number of entries without decreasing")
    if len(indices) and (indices.min() < 0 or indices.max() >= n_minor):
        raise _damaged(path, key, f"has sparse indices outside [0, {n_minor})")
    make = {"csr": sp.csr_matrix, "csc": sp.csc_matrix}[stored_format]
    matrix = make((data, indices, indptr), shape=tuple(shape))
    if described.get("format", stored_format) != stored_format:
        matrix = matrix.asformat(described["format"])
    if described.get("sparray"):
        matrix = {"csr": sp.csr_array, "csc": sp.csc_array, "coo": sp.coo_array}.get(
            matrix.format, sp.csr_array)(matrix)
    return matrix


def _decode_attribute(described, entries, path, key, header):
    if not isinstance(described, dict):
        raise _damaged(path, key, "has no valid description in the header")
    kind = described.get("kind")
    if kind == "array":
        value = _stored(entries, f"attr:{key}", described.get("dtype"), path)
    elif kind == "sparse":
        value = _decode_sparse(described, entries, path, key)
    elif kind == "estimator":
        value = _decode_estimator(None, described, entries, path, f"{key}/", header)
    elif kind == "list" and isinstance(described.get("items"), list):
        value = [_decode_attribute(item, entries, path, f"{key}/{i}", header)
                 for i, item in enumerate(described["items"])]
        value = tuple(value) if described.get("tuple") else value
    elif kind == "object_array":
        try:
            value = np.empty(tuple(described["shape"]), dtype=object)
            value[...] = np.array(described["values"], dtype=object).reshape(value.shape)
        except (KeyError, TypeError, ValueError):
            raise _damaged(path, key, "has an object array whose values do not fit its shape") \
                from None
    elif kind == "json":
        value = described.get("value")
    else:
        raise _damaged(path, key, f"has an unknown kind {kind!r} in the header")
    if described.get("index"):
        value = pd.Index(value)
    return value


def _decode_param(value, entries, path, key, header):
    if isinstance(value, list):
        return [_decode_param(item, entries, path, f"{key}/{i}", header)
                for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if "__dtype__" in value:
        try:
            dtype = np.dtype(value["__dtype__"])
        except TypeError:
            raise ValueError(f"cannot load {path}: parameter {key} is no numpy dtype. "
                             "The file is damaged; save the fitted model again.") from None
        return dtype if value.get("form") == "dtype" else dtype.type
    if "__estimator__" in value:
        return _decode_estimator(None, value["__estimator__"], entries, path, f"{key}/", header)
    if "__config__" in value:
        return _decode_config(value["__config__"], path, key)
    if "__tuple__" in value:
        return tuple(_decode_param(item, entries, path, f"{key}/{i}", header)
                     for i, item in enumerate(value["__tuple__"]))
    if "__dict__" in value:
        return {name: _decode_param(item, entries, path, f"{key}/{name}", header)
                for name, item in value["__dict__"].items()}
    return value  # a format-1 dict parameter


def _resolve_class(qualified, path, key):
    """The estimator class a nested entry names; only recsys and scikit-learn modules are imported.

    A module of another package must have been imported by the caller: a file
    never makes load import (and so run) a module of its choosing, and the
    class must be a scikit-learn estimator, whose ``__init__`` only stores
    its parameters.
    """
    module_name, _, qualname = str(qualified).partition(":")
    if module_name.split(".")[0] in ("recsys", "sklearn"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            module = None
    else:
        module = sys.modules.get(module_name)
        if module is None:
            raise ValueError(
                f"cannot load {path}: {key.rstrip('/')} is a {qualified}; import {module_name} "
                "before loading (load imports recsys and scikit-learn modules only)."
            )
    found = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if not (isinstance(found, type) and issubclass(found, BaseEstimator)):
        raise ValueError(  # noqa: TRY004 - a damaged file
            f"cannot load {path}: {key.rstrip('/')} names {qualified!r}, which is "
            "no scikit-learn estimator class. The file is damaged.")
    return found


def _decode_config(described, path, key):
    """A configuration parameter saved by ``_encode_param``; only recsys classes are imported."""
    qualified = str(described.get("class")) if isinstance(described, dict) else ""
    module_name, _, qualname = qualified.partition(":")
    found = None
    if module_name.split(".")[0] == "recsys" and isinstance(described.get("values"), dict):
        try:
            found = importlib.import_module(module_name)
        except ImportError:
            found = None
        for part in qualname.split("."):
            found = getattr(found, part, None)
    if not (isinstance(found, type) and callable(getattr(found, "from_dict", None))):
        raise ValueError(  # noqa: TRY004 - a damaged file
            f"cannot load {path}: parameter {key} names {qualified!r}, which is no recsys configuration "
            "class. The file is damaged, or was written by another recsys version.")
    return found.from_dict(described["values"])


def _decode_estimator(cls, described, entries, path, prefix, header, state=None):
    """The estimator ``_encode_estimator`` described, checked; cls None for a nested one.

    ``state``: its fitted attributes when already decoded (format 1).
    """
    if not isinstance(described, dict) or not isinstance(described.get("params"), dict) \
            or not isinstance(described.get("attributes"), dict):
        raise ValueError(  # noqa: TRY004 - a damaged file
            f"cannot load {path}: the header of {prefix.rstrip('/') or 'the model'} "
            "is not what save writes. The file is damaged; save the model again.")
    if cls is None:
        cls = _resolve_class(described.get("class"), path, prefix)
    params = {name: _decode_param(value, entries, path, f"{prefix}{name}", header)
              for name, value in described["params"].items()}
    model = _construct(cls, params, header, path)
    if state is None:
        state = {name: _decode_attribute(value, entries, path, f"{prefix}{name}", header)
                 for name, value in described["attributes"].items()}
    _check_fitted_state(model, state, params, header, path, prefix)
    vars(model).update(state)
    if hasattr(model, "_rebuild_derived"):
        model._rebuild_derived()
    return model


def _decode_format_1(header, entries):
    """The attributes of a format-1 file (JSON values with object arrays marked; bare arrays)."""
    state = {}
    for name, value in header.get("attributes", {}).items():
        if isinstance(value, dict) and set(value) == {"object_array"}:
            value = np.array(value["object_array"], dtype=object)
        state[name] = value
    for key, value in entries.items():
        if key.startswith("attr:"):
            state[key.removeprefix("attr:")] = value
    return state


def _non_finite_json(value):
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return any(_non_finite_json(item) for item in value)
    if isinstance(value, dict):
        return any(_non_finite_json(item) for item in value.values())
    return False


def _values(value):
    """The stored values of an array, Index or sparse matrix (None for anything else)."""
    if sp.issparse(value):
        return value.data
    if isinstance(value, pd.Index):
        return value.to_numpy()
    return value if isinstance(value, np.ndarray) else None


def _is_count(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class _Dimensions:
    """Resolves the dimension names of the declared shapes, binding free names on first use."""

    def __init__(self, path, params, state, defined, prefix=""):
        self.path, self.params, self.state, self.bound = path, params, state, dict(defined)
        self.prefix = prefix
        self.bound_by = {}  # free name -> the attribute whose shape set it

    def value(self, spec, field):
        """The size a dimension spec stands for; None binds a free name to the caller's size."""
        if _is_count(spec):
            return int(spec)
        match = _DIMENSION.match(str(spec))
        if match is None:
            raise ValueError(f"invalid dimension {spec!r} declared for {field}")
        name, offset = match.group(1), int(match.group(2) or 0)
        if name in self.bound:
            return self.bound[name] + offset
        if name in self.state or name in self.params:
            source = self.state if name in self.state else self.params
            size = source[name]
            if not _is_count(size) or size < 0:
                what = "fitted attribute" if source is self.state else "parameter"
                raise _Damaged(f"cannot load {self.path}: {what} {self.prefix}{name} must be a "
                               f"non-negative int (it sizes {self.prefix}{field}); got {size!r}. "
                               "The file is damaged.")
            self.bound[name] = int(size)
            return self.bound[name] + offset
        return None

    def check(self, spec, size, field, axis):
        expected = self.value(spec, field)
        name, offset = _DIMENSION.match(str(spec)).groups() if not _is_count(spec) else (spec, 0)
        if expected is None:
            self.bound[name] = size - int(offset or 0)
            self.bound_by[name] = field
        elif size != expected:
            source = (f" (the size in {self.prefix}{self.bound_by[name]})"
                      if name in self.bound_by else "")
            raise _damaged(self.path, self.prefix + field, f"has {size} along axis {axis}, but "
                           f"{spec} is {expected}{source}")


def _check_fitted_state(model, state, params, header, path, prefix=""):
    """The generic and declared checks of the loaded fitted state (see the module docstring).

    ``prefix`` names a nested estimator in the messages (``"estimators_/0/"``).
    """
    cls = type(model)
    shapes = _declared(cls, "_fitted_shapes", dict)
    indices = _declared(cls, "_fitted_indices", dict)
    indptrs = _declared(cls, "_fitted_indptrs", dict)
    unique = _declared(cls, "_fitted_unique", tuple)
    optional = _declared(cls, "_fitted_optional", tuple)
    nonfinite = _declared(cls, "_fitted_nonfinite", tuple)
    for name, value in state.items():
        if name in nonfinite:
            continue
        values = _values(value)
        if values is None:
            if _non_finite_json(value):
                raise _damaged(path, prefix + name, "holds NaN or inf")
        elif values.dtype.kind in "fc" and not np.isfinite(values).all():
            raise _damaged(path, prefix + name, "holds NaN or inf")
    # An estimator without fitted attributes is an unfitted template (a member parameter).
    missing = [name for name in {*shapes, *indices, *indptrs, *unique}
               if state and name not in state and name not in optional]
    if missing:
        raise _Damaged(
            f"cannot load {path}: it lacks the fitted attributes "
            f"{sorted(prefix + name for name in missing)} that "
            f"{cls.__name__} of recsys {__version__} needs. It was written by "
            f"{_written_by(header)}; refit the model with this version and save it again."
        )
    # A nested scikit-learn estimator (e.g. a TfidfVectorizer parameter) declares no dimensions.
    fitted_dimensions = getattr(model, "_fitted_dimensions", lambda state: {})
    try:
        defined = fitted_dimensions(state)
    except (KeyError, TypeError):
        raise _Damaged(f"cannot load {path}: its fitted attributes do not define the "
                       f"dimensions of a {cls.__name__}. The file is damaged.") from None
    for name, size in defined.items():
        if not _is_count(size) or size < 0:
            raise _Damaged(f"cannot load {path}: its fitted attributes give {cls.__name__} the "
                           f"dimension {name}={size!r}, not a non-negative int. The file is damaged.")
    dimensions = _Dimensions(path, params, state, defined, prefix)
    for name, shape in shapes.items():
        if name not in state:
            continue
        actual = getattr(state[name], "shape", None)
        if actual is None:
            raise _damaged(path, prefix + name, f"is a {type(state[name]).__name__}, not an array")
        if len(actual) != len(shape):
            raise _damaged(path, prefix + name, f"has {len(actual)} dimensions, not {len(shape)}")
        for axis, (spec, size) in enumerate(zip(shape, actual, strict=True)):
            dimensions.check(spec, size, name, axis)
    for name, spec in indices.items():
        values = _values(state.get(name))
        if values is None:
            continue
        if values.dtype.kind not in "iu":
            raise _damaged(path, prefix + name, f"holds {values.dtype} values; indices must be integers")
        bound = dimensions.value(spec, name)
        if values.size and (values.min() < 0 or (bound is not None and values.max() >= bound)):
            raise _damaged(path, prefix + name, f"holds indices outside [0, {spec}={bound})")
    for name, target in indptrs.items():
        pointers, delimited = _values(state.get(name)), _values(state.get(target))
        if pointers is None or delimited is None:
            continue
        if pointers.dtype.kind not in "iu" or pointers.ndim != 1 or len(pointers) == 0:
            raise _damaged(path, prefix + name, "must be a non-empty 1-d integer array of index pointers")
        if pointers[0] != 0 or pointers[-1] != len(delimited) or (np.diff(pointers) < 0).any():
            raise _damaged(path, prefix + name, f"does not run from 0 to the {len(delimited)} entries of "
                           f"{prefix}{target} without decreasing")
    for name in unique:
        values = _values(state.get(name))
        if values is not None and not pd.Index(values.ravel()).is_unique:
            raise _damaged(path, prefix + name, "holds repeated values; they must be distinct")


class PersistenceMixin:
    """``save(path)`` / ``load(path)`` of a fitted estimator to a ``.npz`` file, no pickle.

    Every recommender and rating predictor inherits it through
    :class:`recsys.base.BaseRecommender` and
    :class:`recsys.base.BaseRatingPredictor`; other estimators list it among
    their bases. The file holds the class, the recsys version, the
    constructor parameters (``get_params()``, as JSON) and every public
    fitted attribute (ending in ``_``): numpy arrays and scipy.sparse
    matrices as arrays, Python values and arrays of objects (e.g. string ids)
    as JSON. It is read with ``allow_pickle=False``, so loading an untrusted
    file cannot run code, and checked on load (finite values, dtypes, the
    shapes and index ranges the class declares in ``_fitted_shapes``,
    ``_fitted_indices``, ...; see :mod:`recsys.utils._persistence`): a damaged
    file raises a ``ValueError`` naming the attribute. Works for any
    estimator whose parameters are JSON values (an int ``random_state``, not
    a ``RandomState``).

    Attributes that can be recomputed from the others (a search index, a
    fitted helper object) are listed in ``_derived_attributes``: they are not
    saved, and ``_rebuild_derived`` recomputes them after ``load``.
    """

    #: fitted attributes derived from the others: not saved, rebuilt by ``_rebuild_derived``
    _derived_attributes = ()

    def _rebuild_derived(self):
        """Recompute the attributes of ``_derived_attributes`` (after fit and load)."""

    def _fitted_dimensions(self, state):
        """Dimensions of the declared shapes that depend on the parameters: name -> size.

        ``state`` maps the loaded fitted attributes to their values; the
        parameters are set on ``self``.
        """
        return {}

    def save(self, path):
        """Save the fitted model to path, ``.npz`` added when it is missing.

        ``save("model")`` writes ``model.npz``, which ``load("model")`` reads.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        path : pathlib.Path
            The file written.
        """
        check_is_fitted(self)
        arrays = {}
        header = {"format_version": _SAVE_FORMAT_VERSION, "recsys_version": __version__,
                  **_encode_estimator(self, arrays, prefix="")}
        path = _npz_path(path)
        np.savez(path, __header__=np.array(json.dumps(header)), **arrays)
        return path

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save`, checking it first.

        Parameters
        ----------
        path : str or path-like
            The path given to ``save`` (``.npz`` may be left out, as there).

        Returns
        -------
        model : instance of this class, fitted

        Raises
        ------
        ValueError
            When the file holds another class, comes from a newer save
            format, or its contents are inconsistent (the message names the
            attribute).
        """
        if isinstance(path, (str, os.PathLike)) and not Path(path).is_file():
            path = _npz_path(path)
        with np.load(path, allow_pickle=False) as archive:
            if "__header__" not in archive.files:
                raise ValueError(f"{path} was not written by {cls.__name__}.save: no header.")
            try:
                header = json.loads(str(archive["__header__"]))
            except ValueError:
                header = None
            if not isinstance(header, dict) or not isinstance(header.get("params"), dict):
                raise ValueError(  # noqa: TRY004 - a damaged file
                    f"cannot load {path}: its header is not the JSON object save writes. "
                    "The file is damaged; save the fitted model again.")
            entries = {key: archive[key] for key in archive.files if key != "__header__"}
        _check_format_and_class(cls, header, path)
        if header["format_version"] == 1:
            return _decode_estimator(cls, {**header, "attributes": {}}, entries, path, "", header,
                                     state=_decode_format_1(header, entries))
        return _decode_estimator(cls, header, entries, path, "", header)


def _written_by(header):
    return f"recsys {header.get('recsys_version', '0.1.0 or earlier')}"


def _check_format_and_class(cls, header, path):
    written_by = _written_by(header)
    version = header.get("format_version")
    if version not in _READABLE_FORMATS:
        raise ValueError(
            f"{path} was written by {written_by} in save format {version!r}; recsys {__version__} "
            f"reads formats {_READABLE_FORMATS[0]} to {_READABLE_FORMATS[-1]}. Load it with the "
            "recsys version that wrote it (or a newer one), or refit and save it with this one."
        )
    saved = header.get("class")
    expected = _qualified_name(cls) if version > 1 else cls.__name__
    # The class itself, not its module: a model module may move between releases.
    if not isinstance(saved, str) or saved.rpartition(":")[2] != cls.__qualname__:
        raise ValueError(
            f"{path} holds a {saved}, not a {expected} (written by {written_by}); "
            f"load it with {str(saved).rpartition(':')[2]}.load."
        )


def _construct(cls, params, header, path):
    """The unfitted estimator with the saved parameters, validated as fit would."""
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        raise ValueError(
            f"cannot load {path}: parameters {unknown} are not parameters of {cls.__name__} in "
            f"recsys {__version__} (the file was written by {_written_by(header)}). Refit and "
            "save it again."
        )
    model = cls(**params)
    if getattr(model, "_parameter_constraints", None):
        try:
            model._validate_params()
        except ValueError as error:
            raise ValueError(f"cannot load {path}: {error}") from None
    return model
