"""Neural recommenders on PyTorch and Hugging Face transformers (the ``neural`` extra).

Install with ``pip install "recsys[neural]"``; without it, importing this
package raises an ImportError that says so. No other recsys module imports
torch.

BradleyTerry               a reward model fitted on (chosen, rejected) pairs
ContentKNN                 content-based recommender on item texts (serves cold items)
SASRecConfig, SASRecModel  SASRec as a transformers config and model
                           (registered with AutoConfig / AutoModel)
SequentialRecommender      a recsys recommender training and serving SASRecModel
SemanticCache              an LRU cache hit by queries similar in meaning
TransformerEmbedder        texts to sentence embeddings (a scikit-learn transformer),
                           contrastive fine-tuning, with LoRA adapters (peft)
preference_pairs_from_ratings  (history, chosen, rejected) pairs for
                           SequentialRecommender.fit_preferences (DPO)
gbce_beta                  the calibration exponent of gSASRec's gBCE loss
"""

import importlib

for _module in ("torch", "transformers", "safetensors"):
    try:
        importlib.import_module(_module)
    except ImportError as _error:
        raise ImportError(
            f"recsys.neural needs {_module!r}, which is not installed: install the 'neural' extra "
            "with pip install \"recsys[neural]\" (torch, transformers, peft, safetensors)."
        ) from _error

from transformers import AutoConfig, AutoModel

from recsys.neural._content import ContentKNN
from recsys.neural._dpo import preference_pairs_from_ratings
from recsys.neural._preference import BradleyTerry
from recsys.neural._sasrec import SASRecConfig, SASRecModel, SASRecOutput, gbce_beta
from recsys.neural._semantic_cache import SemanticCache
from recsys.neural._sequential import SequentialRecommender
from recsys.neural._text import TransformerEmbedder

AutoConfig.register(SASRecConfig.model_type, SASRecConfig, exist_ok=True)
AutoModel.register(SASRecConfig, SASRecModel, exist_ok=True)

__all__ = ["BradleyTerry", "ContentKNN", "SASRecConfig", "SASRecModel", "SASRecOutput", "SemanticCache",
           "SequentialRecommender", "TransformerEmbedder", "gbce_beta", "preference_pairs_from_ratings"]
