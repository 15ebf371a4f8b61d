"""Register the linear item-item models with recsys-bench."""

from recsys.bench import register_model
from recsys.linear import EASE, SLIM

register_model("ease", EASE, task="topn",
               description="EASE: closed-form item-item autoencoder (Steck 2019)")
register_model("slim", SLIM, task="topn", default_params={"n_jobs": -1},
               description="SLIM: per-item non-negative elastic net (Ning & Karypis 2011)")
