"""Parameters renamed to one vocabulary across the factor models, old names kept for one release.

All factor models say ``n_factors`` (number of latent factors) and
``n_epochs`` (passes over the data). ALS, BPR and LMF took implicit's
``factors`` and ``iterations``; those still work for one release: the old
parameter defaults to ``"deprecated"``, and when it is set, ``fit`` warns
with a ``FutureWarning`` and uses its value. Both stay parameters, so
``get_params``, ``clone``, ``set_params`` and saved files keep working.
"""

import warnings
from typing import ClassVar

from sklearn.utils._param_validation import StrOptions

#: the default of a renamed parameter's old name: "not given"
DEPRECATED = "deprecated"


def renamed_param_constraint(constraints):
    """The constraints of the new name, plus the "deprecated" default of the old one."""
    return [*constraints, StrOptions({DEPRECATED})]


class RenamedParamsMixin:
    """``_param(name)``: a parameter's value, taken from its old name when that one is set."""

    #: old parameter name -> new name
    _renamed_params: ClassVar[dict] = {}

    def _param(self, name):
        for old, new in self._renamed_params.items():
            if new == name and getattr(self, old) != DEPRECATED:
                return getattr(self, old)
        return getattr(self, name)

    def _warn_renamed_params(self):
        for old, new in self._renamed_params.items():
            if getattr(self, old) != DEPRECATED:
                warnings.warn(
                    f"{type(self).__name__}({old}=...) is deprecated and will be removed in the "
                    f"next release: use {new}= instead ({old}={getattr(self, old)!r} is used).",
                    FutureWarning, stacklevel=3,
                )
