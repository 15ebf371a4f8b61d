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
    ``x_u @ B``. Fitting needs two dense items x items matrices; when they do
    not fit in the available memory, ``fit`` says how much is needed.

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
        needed = _DENSE_COPIES * n_items**2 * dtype.itemsize
        available = available_memory_bytes()
        if available is not None and needed > available:
            raise MemoryError(
                f"EASE needs about {needed / 2**30:.1f} GiB for {n_items} items "
                f"({_DENSE_COPIES} dense items x items {dtype.name} matrices) but only "
                f"{available / 2**30:.1f} GiB is available. Use dtype=np.float32, drop rare "
                "items, or use a sparse model (SLIM, ItemKNN)."
            )
        X = X.astype(dtype)
        gram = (X.T @ X).toarray()
        gram[np.diag_indices(n_items)] += self.l2
        inverse = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        del gram
        diagonal = np.diag(inverse).copy()
        inverse /= -diagonal[None, :]
        inverse[np.diag_indices(n_items)] = 0.0
        self.coef_ = inverse

    def _score(self, X):
        return X.astype(self.coef_.dtype) @ self.coef_
