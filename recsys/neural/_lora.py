"""LoRA adapters (peft) for the neural estimators: wrap, fine-tune, save, reload, merge.

One place for what TransformerEmbedder and SequentialRecommender share:
:func:`with_adapter` wraps a model with ``peft.get_peft_model`` so that only
the adapter weights train, and :class:`AdapterMixin` gives an estimator
``save_adapter`` / ``load_adapter`` / ``merge_and_unload`` on the fitted
model attribute it names. :class:`SequentialFineTuneMixin` adds
``SequentialRecommender.fine_tune``. peft is imported lazily: it is part of
the ``neural`` extra, but an estimator used without ``lora=`` never needs it.
"""

import copy

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted


def _peft():
    try:
        import peft
    except ImportError as error:
        raise ImportError("LoRA adapters need peft, which is not installed: install the 'neural' extra "
                          "with pip install \"recsys[neural]\".") from error
    return peft


def check_lora_config(lora):
    """Raise a TypeError unless ``lora`` is a ``peft.LoraConfig``."""
    if not isinstance(lora, _peft().LoraConfig):
        raise TypeError(f"lora must be a peft.LoraConfig, e.g. LoraConfig(r=8, target_modules=[...]); "
                        f"got {type(lora).__name__}.")
    return lora


def with_adapter(model, lora):
    """``model`` wrapped with a fresh LoRA adapter: only the adapter weights require grad.

    The config is copied (peft fills in fields of the one it is given), the
    model's own weights are frozen by peft, and a model that already carries
    an adapter is refused: merge it first (``merge_and_unload``).
    """
    peft = _peft()
    check_lora_config(lora)
    if isinstance(model, peft.PeftModel):
        raise ValueError(  # noqa: TRY004 (the state is wrong, not a type)
            "the model already carries a LoRA adapter; call merge_and_unload() to fold it "
            "into the weights before adding another.")
    return peft.get_peft_model(model, copy.deepcopy(lora))


class AdapterMixin:
    """``save_adapter`` / ``load_adapter`` / ``merge_and_unload`` on the fitted model ``_adapter_attribute``."""

    _adapter_attribute = "model_"

    def _fitted_model(self):
        check_is_fitted(self, self._adapter_attribute)
        return getattr(self, self._adapter_attribute)

    @property
    def has_adapter_(self):
        """Whether the fitted model carries a LoRA adapter (not merged yet)."""
        return isinstance(self._fitted_model(), _peft().PeftModel)

    def save_adapter(self, path):
        """Write the LoRA adapter (config + weights, safetensors) to the directory ``path``.

        Only the adapter is written, a few kilobytes: reload it onto the same
        base model with :meth:`load_adapter`.
        """
        model = self._fitted_model()
        if not isinstance(model, _peft().PeftModel):
            raise ValueError(  # noqa: TRY004 (the state is wrong, not a type)
                "this model carries no LoRA adapter to save: fine-tune it with lora= first "
                "(a merged adapter is part of the weights and is saved with the model).")
        model.save_pretrained(str(path))
        return self

    def load_adapter(self, path):
        """Put the adapter saved at ``path`` on the base model, replacing any adapter it carries.

        The base weights must be those the adapter was trained on (the model
        before fine-tuning), as with ``peft.PeftModel.from_pretrained``.
        """
        peft = _peft()
        model = self._fitted_model()
        if isinstance(model, peft.PeftModel):
            model = model.unload()  # the base weights, without the adapter layers
        loaded = peft.PeftModel.from_pretrained(model, str(path))
        setattr(self, self._adapter_attribute, loaded.eval())
        self._adapter_changed()
        return self

    def merge_and_unload(self):
        """Fold the adapter into the base weights (same outputs, no adapter overhead); return self."""
        model = self._fitted_model()
        if not isinstance(model, _peft().PeftModel):
            raise ValueError("this model carries no LoRA adapter to merge.")  # noqa: TRY004 (the state is wrong, not a type)
        setattr(self, self._adapter_attribute, model.merge_and_unload().eval())
        self._adapter_changed()
        return self

    def _adapter_changed(self):
        """Called when load_adapter or merge_and_unload replaced the fitted model (a hook)."""


class SequentialFineTuneMixin(AdapterMixin):
    """``fine_tune`` for SequentialRecommender (kept here so that LoRA lives in one module)."""

    def fine_tune(self, X, lora=None):
        """Continue training the fitted model on X, with a LoRA adapter when ``lora`` is given.

        The design: ``fit`` always trains from scratch (scikit-learn's
        contract); ``fine_tune`` is the one way to continue, so that a
        ``clone`` or a grid search never fine-tunes by accident. It uses the
        estimator's training parameters (``epochs``, ``lr``, ``lr_schedule``,
        ``batch_size``, ``validation_fraction``, ``patience``,
        ``random_state``): change them with ``set_params`` first (LoRA
        usually wants a larger ``lr``).

        Parameters
        ----------
        X : Interactions
            Events with timestamps, in the item ids of fit (a subset of them
            is fine: e.g. one market or the most recent weeks).
        lora : peft.LoraConfig, default=None
            With a config, the model is wrapped with ``peft.get_peft_model``
            and only the adapter weights train (``target_modules`` names
            SASRec's linear layers: ``"qkv"``, ``"out"`` for attention,
            ``"experts.*"`` / ``"ffn.0"``, ``"ffn.3"`` for the FFN); the
            adapter can then be saved, reloaded and merged. None fine-tunes
            every weight (of the adapter only, if the model already has one).

        Returns
        -------
        self : object
            ``model_`` is a ``peft.PeftModel`` after a LoRA fine-tune, until
            :meth:`merge_and_unload`; ``history_`` and ``best_epoch_``
            describe the fine-tune.
        """
        from recsys.neural._sequential import (  # imported here: _sequential imports this module
            _check_interactions,
            _training_windows,
            _validation_slice,
        )

        check_is_fitted(self, "model_")
        self._validate_params()
        _check_interactions(X, "fine_tune")
        model = self.model_ if lora is None else with_adapter(self.model_, lora)
        # The histories in the item indices of fit (unknown ids raise); users without events are left out.
        with_events = np.unique(X.users)
        if len(with_events) == 0:
            raise ValueError("X holds no events to fine-tune on.")
        sequences = self._histories(X, users=np.asarray(X.user_ids)[with_events])
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31))
        train_sequences, val_histories, val_targets = _validation_slice(
            sequences, self.validation_fraction, self.n_items_, rng)
        inputs, labels = _training_windows(train_sequences, model.config.max_len)
        if not inputs:
            raise ValueError("no user of X has 2 or more events: nothing to fine-tune on.")
        device = next(model.parameters()).device
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(int(rng.integers(2**31)))
            self._train(model, inputs, labels, val_histories, val_targets, rng, device)
        self.model_ = model.eval()
        return self
