"""EASE: the closed-form shallow autoencoder of Steck 2019."""

import os
from numbers import Real
from typing import ClassVar

import numpy as np
import scipy.linalg
from sklearn.utils._param_validation import Interval

from recsys.base import BaseRecommender

# Dense items x items matrices alive at once while fitting: the Gram matrix,
# inverted in place, and the product it is built from.
_DENSE_COPIES = 2


def available_memory_bytes():
    """Memory the process can still allocate: MemAvailable, else free pages."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


class EASE(BaseRecommender):
    """Embarrassingly Shallow AutoEncoder (Steck 2019), solved in closed form.

    ``P = (X^T X + l2 I)^-1`` and ``B = I - P diag(1 / diag(P))``, so B has a
    zero diagonal: an item never predicts itself. A user's scores are
    ``x_u @ B``.

    EASE is dense in the catalogue: B holds ``n_items**2`` weights whatever
    the number of interactions, and fitting inverts a dense matrix over the
    items in use (two copies, cubic time in them). Items nobody interacted with
    are left out of the inversion (their weights are zero), but a catalogue of
    millions of items needs terabytes: ``fit`` checks the memory it needs
    against the memory available first and raises a ``MemoryError`` saying
    how much, instead of starting. Sparse models (SLIM, ItemKNN, RP3beta)
    scale with the interactions instead.

    Parameters
    ----------
    l2 : float > 0, default=500.0
        L2 regularisation added to the diagonal of the Gram matrix.
    dtype : {np.float64, np.float32}, default=np.float64
        Precision of the Gram matrix and of B; float32 halves the memory.

    Attributes
    ----------
    coef_ : ndarray of shape (n_items, n_items)
        B. An item nobody interacted with has a zero row and column.
    n_items_ : int

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from recsys.linear import EASE
    >>> X = sp.csr_matrix([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1]])
    >>> model = EASE(l2=1.0).fit(X)
    >>> model.recommend(sp.csr_matrix([[1, 0, 0, 0]]), n=1)[0]
    array([[1]])
    """

    _fitted_shapes: ClassVar[dict] = {"coef_": ("n_items_", "n_items_")}
    _parameter_constraints: ClassVar[dict] = {
        "l2": [Interval(Real, 0, None, closed="neither")],
        "dtype": [type, str, np.dtype],
    }

    def __init__(self, l2=500.0, dtype=np.float64):
        self.l2 = l2
        self.dtype = dtype

    def _fit(self, X):
        dtype = np.dtype(self.dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be np.float32 or np.float64; got {self.dtype!r}.")
        n_items = X.shape[1]
        # An item nobody interacted with has a Gram row and column of zeros but
        # its l2: its block of the inverse is 1 / l2 alone and its weights are
        # zero, so only the items in use are inverted (cubic in them, not in
        # the catalogue); B itself stays dense over the whole catalogue.
        used_items = np.flatnonzero(X.getnnz(axis=0))
        n_used = len(used_items)
        needed = (_DENSE_COPIES * n_used**2 + (n_items**2 if n_used < n_items else 0)) * dtype.itemsize
        available = available_memory_bytes()
        if available is not None and needed > available:
            raise MemoryError(
                f"EASE needs about {needed / 2**30:.1f} GiB for {n_items} items, {n_used} of them "
                f"with interactions ({_DENSE_COPIES} dense {n_used} x {n_used} {dtype.name} "
                f"matrices to invert, and B dense over all {n_items} items) but only "
                f"{available / 2**30:.1f} GiB is available. Use dtype=np.float32, drop rare "
                "or unused items, or use a sparse model (SLIM, ItemKNN)."
            )
        X = X[:, used_items].astype(dtype)
        gram = (X.T @ X).toarray()
        gram[np.diag_indices(n_used)] += self.l2
        inverse = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        del gram
        diagonal = np.diag(inverse).copy()
        inverse /= -diagonal[None, :]
        inverse[np.diag_indices(n_used)] = 0.0
        if n_used == n_items:
            self.coef_ = inverse
        else:
            self.coef_ = np.zeros((n_items, n_items), dtype=dtype)
            self.coef_[np.ix_(used_items, used_items)] = inverse

    def _score(self, X):
        return X.astype(self.coef_.dtype) @ self.coef_

    def _explain(self, history, item):
        """Contribution of each history item j to the score of item: x_uj * B[j, item]."""
        return history.data.astype(self.coef_.dtype) * self.coef_[history.indices, item]
