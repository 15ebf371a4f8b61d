"""Feature engineering on interaction data, as scikit-learn transformers.

- :class:`InteractionWeighter`: BM25 / TF-IDF / confidence re-weighting of a
  users x items matrix, statistics learned in ``fit``.
- :class:`PairFeatures`: features of (user, item[, timestamp]) pairs from the
  interactions given to ``fit`` (counts, rating statistics, popularity rank,
  recency) and from any recommender's or rating predictor's scores.
- :class:`NegativeSampler`: labelled (user, item, label) tables from positive
  interactions, for pair classifiers.

Everything generic (encoders, splines, hashing, scaling, imputation) is left to
scikit-learn: combine these with ``TargetEncoder``, ``OneHotEncoder``,
``SplineTransformer``, ``FeatureHasher``, scalers and imputers in a
``ColumnTransformer`` or ``Pipeline``.
"""

from recsys.preprocessing._negative_sampling import NegativeSampler
from recsys.preprocessing._pair_features import PairFeatures
from recsys.preprocessing._weighting import InteractionWeighter

__all__ = ["InteractionWeighter", "NegativeSampler", "PairFeatures"]
