"""Save/load of the hashing indexes through :class:`recsys.utils.PersistenceMixin`.

The indexes keep their fitted state in private structures made for queries
(bucket tables, trees, a datasketch ensemble). :class:`IndexPersistenceMixin`
lays that state out as flat public arrays and JSON values for the length of
``save`` (``_persistent_state``), so the shared mixin writes it without
pickle, and turns them back into the query structures after ``load``
(``_restore_state``). Whatever can be recomputed exactly from the rest
(bucket keys from signatures, trees, hashers from their seeds) is recomputed
rather than stored.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from recsys.utils import PersistenceMixin


def check_saveable_keys(keys, owner):
    """Keys as a list of int and str (what JSON round-trips exactly), or ValueError."""
    keys = [int(key) if isinstance(key, numbers.Integral) and not isinstance(key, bool) else key
            for key in keys]
    bad = [key for key in keys if not isinstance(key, (int, str)) or isinstance(key, bool)]
    if bad:
        raise ValueError(
            f"cannot save {owner}: its keys must be int or str to be saved; got "
            f"{type(bad[0]).__name__} ({bad[0]!r}). Refit with such keys (e.g. str(key))."
        )
    return keys


def object_array(values):
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


def csr_state(prefix, matrix):
    """A CSR matrix as flat arrays named ``<prefix>_indptr_`` ... ``<prefix>_shape_``."""
    matrix = sp.csr_matrix(matrix)
    return {f"{prefix}_indptr_": matrix.indptr.astype(np.int64),
            f"{prefix}_indices_": matrix.indices.astype(np.int64),
            f"{prefix}_data_": matrix.data, f"{prefix}_shape_": np.asarray(matrix.shape, np.int64)}


def csr_from_state(prefix, state):
    shape = tuple(int(n) for n in state[f"{prefix}_shape_"])
    indptr, indices = state[f"{prefix}_indptr_"], state[f"{prefix}_indices_"]
    if len(indptr) != shape[0] + 1 or indptr[-1] != len(indices) or \
            (len(indices) and (indices.min() < 0 or indices.max() >= shape[1])):
        raise ValueError(f"the saved sparse matrix {prefix} is inconsistent with its shape "
                         f"{shape}; the file is damaged.")
    return sp.csr_matrix((state[f"{prefix}_data_"], indices, indptr), shape=shape)


def vocabulary_state(vocabulary):
    """Tokens in column order as JSON strings: ``s:`` + text or ``b:`` + hex of bytes."""
    return [f"s:{token}" if isinstance(token, str) else f"b:{bytes(token).hex()}"
            for token in vocabulary]


def vocabulary_from_state(tokens):
    return {(token[2:] if token.startswith("s:") else bytes.fromhex(token[2:])): column
            for column, token in enumerate(tokens)}


class IndexPersistenceMixin(PersistenceMixin):
    """``save``/``load`` for estimators whose fitted state is private query structures.

    Subclasses implement ``_persistent_state()`` -> dict of public names
    (ending in ``_``) to arrays or JSON values, and ``_restore_state(state)``,
    which rebuilds the private structures from that dict after load.
    """

    def _persistent_state(self):
        return {}

    def _restore_state(self, state):
        """Rebuild the private structures from the dict of _persistent_state."""

    def save(self, path):
        """Save the fitted estimator to path (numpy adds ``.npz`` when it is missing).

        Parameters
        ----------
        path : str or path-like
        """
        check_is_fitted(self)
        state = self._persistent_state()
        # Set for the length of the save only: the mixin writes public attributes.
        vars(self).update(state, state_names_=sorted(state))
        try:
            return super().save(path)
        finally:
            for name in [*state, "state_names_"]:
                vars(self).pop(name, None)

    def _rebuild_derived(self):
        names = vars(self).pop("state_names_", None)
        if names is None:
            raise ValueError(f"the file does not hold the state of a {type(self).__name__}; "
                             "it was not written by its save.")
        self._restore_state({name: vars(self).pop(name) for name in names})
