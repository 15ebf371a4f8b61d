"""Benchmark factories for the models of :mod:`recsys.neural` (the ``neural`` extra).

A suite's parameters are flat TOML values, while
:class:`~recsys.neural.SequentialRecommender` takes its architecture as a
:class:`~recsys.neural.SASRecConfig` object: :func:`make_sasrec` splits one
flat set of parameters between the two; :func:`make_content_knn` names
:class:`~recsys.neural.ContentKNN`'s embedder. This module imports torch
when a model is built, never when the model table is read.
"""

import inspect


def make_sasrec(**params):
    """Return a :class:`~recsys.neural.SequentialRecommender` from flat parameters.

    Parameters of ``SequentialRecommender`` (``epochs``, ``lr``, ``max_len``,
    ``loss``, ``n_negatives``, ``random_state``, ...) go to it, those of
    ``SASRecConfig`` (``hidden_size``, ``n_layers``, ``position_encoding``,
    ``ffn``, ``n_experts``, ``gbce_t``, ...) to its config. The names both
    take (``max_len``, ``loss``, ``n_negatives``) go to the recommender,
    which overrides its config with them.

    Raises
    ------
    TypeError
        For a name neither takes (``SASRecConfig`` alone would accept and
        keep any keyword silently).

    Examples
    --------
    >>> from recsys.bench._neural import make_sasrec
    >>> model = make_sasrec(hidden_size=16, n_heads=1, epochs=2, loss="bce")
    >>> model.config.hidden_size, model.epochs, model.loss
    (16, 2, 'bce')
    """
    from recsys.neural import SASRecConfig, SequentialRecommender

    recommender_names = set(SequentialRecommender().get_params())
    config_names = set(inspect.signature(SASRecConfig.__init__).parameters) - {"self", "kwargs", "n_items"}
    unknown = sorted(set(params) - recommender_names - config_names)
    if unknown:
        raise TypeError(
            f"make_sasrec() got unknown parameter(s) {unknown}; SequentialRecommender takes "
            f"{sorted(recommender_names - {'config'})}, SASRecConfig takes {sorted(config_names - recommender_names)}."
        )
    config = SASRecConfig(**{name: value for name, value in params.items() if name not in recommender_names})
    return SequentialRecommender(config, **{name: value for name, value in params.items()
                                            if name in recommender_names and name != "config"})


#: ContentKNN's embedders by the names a suite gives them
CONTENT_EMBEDDERS = ("minilm", "tfidf")


def make_content_knn(embedder="minilm", index="auto", batch_size=32, max_length=None):
    """Return a :class:`~recsys.neural.ContentKNN` from flat parameters.

    Parameters
    ----------
    embedder : {"minilm", "tfidf"}, default="minilm"
        ``TransformerEmbedder`` (all-MiniLM-L6-v2, shipped) or
        ``TfidfVectorizer(sublinear_tf=True)`` (a lexical baseline).
    index : {"auto", "flat", "hnsw", "exact"}, default="auto"
        The faiss index, or ``"exact"`` for a dense product; ``"auto"`` is
        ``"flat"`` for MiniLM and ``"exact"`` for TF-IDF (sparse vectors).
    batch_size, max_length : int
        Of the ``TransformerEmbedder``.

    Examples
    --------
    >>> from recsys.bench._neural import make_content_knn
    >>> model = make_content_knn(embedder="tfidf")
    >>> type(model.embedder).__name__, model.index
    ('TfidfVectorizer', None)
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    from recsys.neural import ContentKNN, TransformerEmbedder

    if embedder not in CONTENT_EMBEDDERS:
        raise TypeError(f"make_content_knn() got embedder={embedder!r}; choose one of {CONTENT_EMBEDDERS}.")
    if index not in ("auto", "flat", "hnsw", "exact"):
        raise TypeError(f"make_content_knn() got index={index!r}; choose 'auto', 'flat', 'hnsw' or 'exact'.")
    if embedder == "tfidf":
        model = TfidfVectorizer(sublinear_tf=True)
    else:
        model = TransformerEmbedder(batch_size=batch_size, max_length=max_length)
    if index == "auto":
        index = "exact" if embedder == "tfidf" else "flat"
    return ContentKNN(embedder=model, index=None if index == "exact" else index)
