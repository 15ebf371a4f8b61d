"""Benchmark factory for the sequential models of :mod:`recsys.neural` (the ``neural`` extra).

A suite's parameters are flat TOML values, while
:class:`~recsys.neural.SequentialRecommender` takes its architecture as a
:class:`~recsys.neural.SASRecConfig` object: :func:`make_sasrec` splits one
flat set of parameters between the two. This module imports torch when a
model is built, never when the model table is read.
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
