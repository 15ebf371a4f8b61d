"""ItemKNN whose top-k item-item similarity is computed as Dask tasks over blocks of items."""

import uuid
from numbers import Integral
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from distributed import Client, get_client
from sklearn.base import clone
from sklearn.utils._param_validation import Interval

from recsys.distributed._handles import RuntimeHandleMixin
from recsys.distributed._tasks import retries_spent_error, shared_input
from recsys.neighbors import ItemKNN as InMemoryItemKNN


class ItemKNN(RuntimeHandleMixin, InMemoryItemKNN):
    """:class:`recsys.neighbors.ItemKNN` whose fit runs on a Dask cluster, one block of items per task.

    The fit sends the users x items matrix to the cluster once (as the
    result of a task, which Dask recomputes if the workers holding it die,
    not with ``client.scatter``); one task turns it into the operands of the
    similarity (the reweighted item vectors, their norms and a transposed
    copy), which each worker fetches once; then each task computes the
    similarity of ``block_size`` items against all items and keeps only
    their k best neighbours. The client stacks the blocks into
    ``similarity_``: the same matrix, entry for entry, as
    ``recsys.neighbors.ItemKNN`` with the same parameters computes in one
    process (the same kernel, whose rows do not depend on the block they are
    computed in; ties at the k-th neighbour go to the lower item index in
    both). The fitted model is an ItemKNN: ``recommend``,
    ``similar_items``, ``explain``, ``save`` and ``load`` need no cluster.

    Memory of a worker (``benchmarks/distributed_knn_scaling.py`` measures
    it): the operands, 24 bytes per interaction (the vectors and their
    transposed copy; the worker that computes them also holds the matrix,
    8 bytes per interaction, and the norms' temporaries, 24, until they
    exist); and while a task runs, the kernel's sub-block of at most 2**24
    item x item cells (its products and top-k work arrays: about 40 bytes a
    cell, about 640 MiB measured at 27,000 items; see
    :mod:`recsys.neighbors._similarity`) plus the ``block_size x k``
    similarities it keeps (about 24 bytes each until returned). So a task
    adds at most about ``640 MiB + 24 block_size k`` bytes to the shared
    operands, whatever the number of interactions: ``block_size`` bounds
    the kept result, the kernel bounds its own block. The client holds the
    matrix it was given, the task spec that carries it to the cluster (as
    much again; the scheduler of a LocalCluster runs in the client's
    process) and the ``n_items x k`` result.

    Parameters
    ----------
    k, similarity, shrink, alpha, normalize
        As in :class:`recsys.neighbors.ItemKNN`.
    client : distributed.Client, default=None
        The cluster to fit on; None for the current client (``get_client``).
        A clone shares it; pickle and ``save`` write None (the fitted model
        needs no cluster).
    block_size : int, default=2048
        Items per task. Smaller blocks spread the work more evenly over the
        workers and lose less when a worker dies; larger ones send fewer
        results. The memory of a task's kernel does not depend on it.

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix of shape (n_items, n_items)
    n_items_ : int

    Raises
    ------
    RuntimeError
        From ``fit``, when workers died on a block more often than Dask's
        retries allow (``distributed.scheduler.allowed-failures``).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from distributed import Client, LocalCluster
    >>> from recsys.distributed import ItemKNN
    >>> X = sp.csr_matrix([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1]])
    >>> with LocalCluster(n_workers=2, processes=False) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     model = ItemKNN(k=2, client=client, block_size=2).fit(X)
    >>> model.recommend(sp.csr_matrix([[1, 0, 0, 0]]), n=2)[0]  # doctest: +SKIP
    array([[1, 2]])
    """

    _handle_parameter = "client"
    _parameter_constraints: ClassVar[dict] = {
        **InMemoryItemKNN._parameter_constraints,
        "client": [None, Client],
        "block_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, k=100, similarity="cosine", shrink=0.0, alpha=0.5, normalize=True, client=None,
                 block_size=2048):
        super().__init__(k=k, similarity=similarity, shrink=shrink, alpha=alpha, normalize=normalize)
        self.client = client
        self.block_size = block_size

    def _fit(self, X):
        client = get_client() if self.client is None else self.client
        # The tasks get an unfitted copy (its kernel, the parameters, no client: see __getstate__).
        kernel = clone(self)
        job = uuid.uuid4().hex
        matrix = client.submit(shared_input, X, key=f"recsys-item-knn-matrix-{job}")
        operands = client.submit(_item_operands, kernel, matrix, key=f"recsys-item-knn-operands-{job}")
        # Wanted by no one but the operands' task, the matrix is freed on the workers once the operands
        # exist; the scheduler keeps its spec, to recompute the operands if they are lost.
        del matrix
        n_items = X.shape[1]
        blocks = [
            client.submit(_similarity_block, kernel, operands, start, min(start + self.block_size, n_items),
                          key=f"recsys-item-knn-block-{job}-{number}")
            for number, start in enumerate(range(0, n_items, self.block_size))
        ]
        try:
            with retries_spent_error("a block of items", "If the workers ran out of memory, give them "
                                     "more (dask worker --memory-limit) or lower block_size."):
                parts = client.gather(blocks)
        finally:
            # A failed block leaves the others nothing to do: free the workers at once.
            client.cancel([*blocks, operands])
        self.similarity_ = sp.vstack(parts, format="csr")


def _item_operands(kernel, X):
    """One task: the item vectors, their norms and transposed copy, which every block task fetches."""
    return kernel._item_operands(X)


def _similarity_block(kernel, operands, start, stop):
    """One task: rows start..stop-1 of the similarity (their top-k against all items)."""
    return kernel._item_similarity(operands, rows=np.arange(start, stop))[start:stop]
