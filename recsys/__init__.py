"""recsys: scikit-learn-style recommender systems.

Subpackages
-----------
datasets         interaction data, loaders and generators
model_selection  splitters for interaction data
metrics          ranking, beyond-accuracy and rating metrics
baselines        popularity and random recommenders
bench            the harness behind the ``recsys-bench`` command
testing          the shared test contract every recommender reuses
"""

__version__ = "0.1.0"
