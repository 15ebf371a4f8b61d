"""Register the baselines with recsys-bench."""

from recsys.baselines import PopularityRecommender, RandomRecommender
from recsys.bench import register_model

register_model("pop", PopularityRecommender, task="topn",
               description="most popular items (distinct users)")
register_model("random", RandomRecommender, task="topn", default_params={"random_state": 0},
               description="uniformly random items")
