"""save/load without pickle for estimators that hold a trained torch model (``PersistenceMixin`` applied).

:class:`recsys.utils.PersistenceMixin` stores numpy arrays and JSON values.
A torch model is neither: :class:`TorchModelPersistenceMixin` saves it as its
config (a JSON dict, ``model_config_``) and its ``state_dict`` tensors
concatenated into one float32 array (``model_weights_``) in ``state_dict``
order, and rebuilds it on load (the model attribute is derived). Both
attributes exist only while saving and loading: a fitted model does not keep
a second copy of its weights. ``model_.save_pretrained`` stays available for
the Hugging Face format.
"""

from typing import ClassVar

import numpy as np
import torch

from recsys.utils import PersistenceMixin


class TorchModelPersistenceMixin(PersistenceMixin):
    """``save``/``load`` of an estimator whose fitted ``model_`` is a ``transformers`` ``PreTrainedModel``.

    The class sets ``_torch_model_class``, the model class built from the
    saved config (``_torch_model_class(config_class.from_dict(model_config_))``).
    A model carrying an unmerged LoRA adapter is refused: merge it
    (``merge_and_unload``) or save the adapter with ``save_adapter``.
    """

    _torch_model_class = None
    _derived_attributes = ("model_",)
    #: fitted arrays (None allowed) whose shape the model config gives: attribute -> config keys, checked by load
    _config_shaped_attributes: ClassVar[dict] = {}

    def save(self, path):
        model = getattr(self, "model_", None)
        if model is not None and not isinstance(model, self._torch_model_class):
            raise ValueError(
                f"cannot save {type(self).__name__}: its model is a {type(model).__name__} (an unmerged LoRA "
                "adapter); call merge_and_unload() first, or save the adapter with save_adapter().")
        if model is not None:
            self.model_config_ = model.config.to_dict()
            self.model_weights_ = np.concatenate([
                tensor.detach().to("cpu", torch.float32).numpy().ravel() for tensor in model.state_dict().values()])
        try:
            return super().save(path)
        finally:
            vars(self).pop("model_config_", None)
            vars(self).pop("model_weights_", None)

    save.__doc__ = PersistenceMixin.save.__doc__

    def _rebuild_derived(self):
        """Rebuild ``model_`` from the loaded ``model_config_`` and ``model_weights_`` (on the CPU, eval mode)."""
        if "model_weights_" not in vars(self):
            return
        config_values, weights = vars(self).pop("model_config_"), vars(self).pop("model_weights_")
        for name, keys in self._config_shaped_attributes.items():
            value = vars(self).get(name)
            expected = tuple(config_values.get(key) for key in keys)
            if value is not None and np.shape(value) != expected:
                raise ValueError(f"cannot load {type(self).__name__}: {name} has shape {np.shape(value)} where "
                                 f"its model config gives {expected} ({', '.join(keys)}). The file is damaged; "
                                 "save the model again.")
        model_class = self._torch_model_class
        model = model_class(model_class.config_class.from_dict(config_values))
        state = model.state_dict()
        sizes = [tensor.numel() for tensor in state.values()]
        if weights.ndim != 1 or weights.size != sum(sizes):
            raise ValueError(f"cannot load {type(self).__name__}: model_weights_ holds {weights.size} values where "
                             f"its config needs {sum(sizes)}. The file is damaged; save the model again.")
        pieces = np.split(weights, np.cumsum(sizes)[:-1])
        model.load_state_dict({name: torch.from_numpy(piece.reshape(tensor.shape)).to(tensor.dtype)
                               for (name, tensor), piece in zip(state.items(), pieces, strict=True)})
        self.model_ = model.eval()
