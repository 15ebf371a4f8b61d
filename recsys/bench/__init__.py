"""The benchmark harness behind the ``recsys-bench`` command."""

from recsys.bench._registry import ModelSpec, get_model, list_models, register_model

__all__ = ["ModelSpec", "get_model", "list_models", "register_model"]
