"""ContentKNN: recommend items whose text resembles a user's history (cold items included)."""

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import HasMethods, StrOptions

from recsys.base import BaseRecommender
from recsys.neural._text import TransformerEmbedder, _check_texts
from recsys.retrieval import FaissNearestNeighbors


class ContentKNN(BaseRecommender):
    """Content-based recommender: items described by text, ranked by similarity to a user's history.

    ``fit`` embeds every item's text once (title, genres, tags, ...), centred
    (dense embeddings, ``center``) and scaled to unit length. A user's profile is the interaction-weighted sum of the
    embeddings of the items in their row, scaled to unit length; items are
    ranked by cosine similarity to it, through
    :class:`~recsys.retrieval.FaissNearestNeighbors` (``index``) or an exact
    product (``index=None``). Interactions are used only to build profiles,
    never to learn item vectors, so an item nobody interacted with in fit
    (a **cold item**: a column of zeros) is recommended as readily as any
    other: give the whole catalogue's texts to ``fit``.

    Parameters
    ----------
    embedder : transformer or None, default=None
        Texts to vectors, fitted on the item texts in ``fit``. None uses
        :class:`TransformerEmbedder` (all-MiniLM-L6-v2). Sparse outputs
        (e.g. ``TfidfVectorizer``, a lexical baseline) need ``index=None``.
    index : {"flat", "hnsw"} or None, default="flat"
        The faiss index searched with each profile, or None for an exact
        dense product with every item (also used when ``items`` restricts
        ``recommend``).
    center : "auto" or bool, default="auto"
        Subtract the mean item embedding before scaling to unit length:
        "auto" centres dense embeddings and leaves sparse ones (TF-IDF) as
        they are; True on sparse embeddings raises (they would become dense).
        Sentence embeddings of short item texts share one large common
        direction, so the normalised sum of a history points mostly there and
        ranks items by how typical they are rather than by how close they are
        to this user; centring removes it (on MovieLens latest-small cold
        items, recall@20 0.112 uncentred, 0.166 centred: benchmarks/RESULTS.md).

    Attributes
    ----------
    item_embeddings_ : ndarray or sparse matrix of shape (n_items, n_dims)
        Unit-length embedding of each item's text.
    nearest_neighbors_ : FaissNearestNeighbors or None
        The index over the item embeddings (not saved by ``save``: rebuilt by ``load``).
    n_items_ : int
    n_dims_ : int
        Width of the item embeddings.

    Notes
    -----
    A user with no interactions has no profile: their rows come back as -1
    ids with -inf scores. A profile query asks faiss for ``n`` plus the
    largest history of the batch, so excluded items never crowd out the n
    results (an approximate index may still return fewer).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from recsys.neural import ContentKNN
    >>> texts = ["space opera sci-fi", "sci-fi robots", "romantic comedy", "romantic drama paris"]
    >>> X = sp.csr_matrix([[1, 0, 0, 0], [0, 0, 1, 0]])  # nobody has seen items 1 and 3 (cold)
    >>> model = ContentKNN(embedder=TfidfVectorizer(), index=None).fit(X, item_texts=texts)
    >>> ids, scores = model.recommend(X, n=1)
    >>> ids
    array([[1],
           [3]])
    """

    _fitted_shapes: ClassVar[dict] = {"item_embeddings_": ("n_items_", "n_dims_")}
    # the faiss index is rebuilt from item_embeddings_ after load, not saved
    _derived_attributes = ("nearest_neighbors_",)
    _parameter_constraints: ClassVar[dict] = {
        "embedder": [None, HasMethods(["fit", "transform"])],
        "index": [StrOptions({"flat", "hnsw"}), None],
        "center": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(self, embedder=None, index="flat", center="auto"):
        self.embedder = embedder
        self.index = index
        self.center = center

    def fit(self, X, y=None, *, item_texts):
        """Embed the item texts and index them.

        Parameters
        ----------
        X : sparse matrix of shape (n_users, n_items) or Interactions
            Training interactions (they only fix the item count and the
            vocabularies: profiles are built from the rows given to recommend).
        y : None
        item_texts : sequence of str of length n_items
            The text of each item in column order (for an Interactions, the
            order of its item vocabulary, kept as ``item_ids_``), cold items included.

        Returns
        -------
        self : ContentKNN
        """
        self._item_texts = _check_texts(item_texts)
        try:
            return super().fit(X, y)
        finally:
            del self._item_texts

    def _fit(self, X):
        texts = self._item_texts
        if len(texts) != X.shape[1]:
            raise ValueError(f"item_texts has {len(texts)} texts but X has {X.shape[1]} items (columns): "
                             "give one text per column, cold items included.")
        embedder = TransformerEmbedder() if self.embedder is None else clone(self.embedder)
        embeddings = embedder.fit(texts).transform(texts)
        if sp.issparse(embeddings):
            if self.index is not None:
                raise ValueError(f"the embedder returns a sparse matrix, which a faiss index cannot hold: use "
                                 f"index=None (exact scores), not index={self.index!r}.")
            if self.center is True:
                raise ValueError("center=True would make the embedder's sparse matrix dense; use center='auto' "
                                 "(sparse embeddings are not centred) or center=False.")
            embeddings = normalize(sp.csr_matrix(embeddings, dtype=np.float32))
        else:
            embeddings = np.asarray(embeddings, dtype=np.float32)
            if self.center:  # "auto" or True: see the class notes
                embeddings = embeddings - embeddings.mean(axis=0)
            embeddings = normalize(embeddings)
        if embeddings.shape[0] != len(texts):
            raise ValueError(f"the embedder returned {embeddings.shape[0]} rows for {len(texts)} texts.")
        self.item_embeddings_ = embeddings
        self.n_dims_ = int(embeddings.shape[1])
        self._rebuild_derived()

    def _rebuild_derived(self):
        self.nearest_neighbors_ = None
        if self.index is not None:
            self.nearest_neighbors_ = FaissNearestNeighbors(index=self.index, metric="ip").fit(
                self.item_embeddings_)

    def _profiles(self, X):
        """Unit-length weighted sums of the rows' item embeddings (dense), and which rows have none."""
        profiles = X @ self.item_embeddings_
        profiles = profiles.toarray() if sp.issparse(profiles) else np.asarray(profiles)
        profiles = normalize(profiles.astype(np.float32, copy=False))
        empty = ~profiles.any(axis=1)
        return profiles, empty

    def _score(self, X):
        profiles, empty = self._profiles(X)
        scores = np.asarray(self.item_embeddings_ @ profiles.T).T if sp.issparse(self.item_embeddings_) \
            else profiles @ self.item_embeddings_.T
        scores = np.asarray(scores, dtype=np.float64)
        scores[empty] = -np.inf
        return scores

    def recommend(self, X, n=10, exclude_seen=True, items=None):
        if self.nearest_neighbors_ is None or items is not None:
            return super().recommend(X, n=n, exclude_seen=exclude_seen, items=items)
        X = self._validate_for_recommend(X)
        self._allowed_items(n, None)
        ids = np.full((X.shape[0], n), -1, dtype=np.int64)
        scores = np.full((X.shape[0], n), -np.inf)
        if X.shape[0] == 0:
            return ids, scores
        profiles, empty = self._profiles(X)
        history = np.diff(X.indptr).max() if exclude_seen else 0
        k = int(min(self.n_items_, n + history))
        distances, neighbours = self.nearest_neighbors_.kneighbors(profiles, n_neighbors=k)
        similarities = -distances  # "ip" distances are negated inner products
        if exclude_seen:
            seen = X[np.arange(X.shape[0]).repeat(k), np.maximum(neighbours, 0).ravel()]
            drop = np.asarray(seen).reshape(neighbours.shape) != 0
            neighbours, similarities = np.where(drop, -1, neighbours), np.where(drop, -np.inf, similarities)
        neighbours[empty], similarities[empty] = -1, -np.inf
        # each row's first n survivors, best first: a stable sort moves the dropped places last
        order = np.argsort(neighbours < 0, axis=1, kind="stable")[:, :n]
        width = order.shape[1]
        ids[:, :width] = np.take_along_axis(neighbours, order, axis=1)
        scores[:, :width] = np.where(ids[:, :width] >= 0, np.take_along_axis(similarities, order, axis=1), -np.inf)
        return ids, scores

    recommend.__doc__ = BaseRecommender.recommend.__doc__
