"""Direct preference optimisation (DPO) of a SequentialRecommender, and preference pairs from ratings.

A SASRec model defines a policy over the next item: pi(i | history) =
softmax(scores)[i] over the whole catalogue. DPO (Rafailov et al. 2023)
moves it towards the chosen item of each (history, chosen, rejected) pair
and away from the rejected one, measured against a frozen reference model:

    loss = -logsigmoid(beta * ((log pi(c) - log ref(c)) - (log pi(r) - log ref(r))))

This is the one-negative member of the softmax-DPO family for
recommendation (S-DPO, Chen et al. 2024, sums several rejected items inside
the sigmoid); ``beta`` sets how far the policy may drift from the reference.
"""

import copy
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from recsys.neural._sasrec import PAD_TOKEN


def dpo_loss(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta):
    """Per-pair DPO losses from the log-probabilities of the chosen and rejected items (tensors)."""
    margin = (policy_chosen - reference_chosen) - (policy_rejected - reference_rejected)
    return -F.logsigmoid(beta * margin)


def next_item_log_probs(model, histories, items, device):
    """log softmax(scores)[item] of each history's next item (a tensor, differentiable through model)."""
    from recsys.neural._sequential import (
        _left_padded,  # imported here: _sequential imports this module
    )

    input_ids = _left_padded([history[-model.config.max_len:] + 1 for history in histories], device)
    scores = model.last_item_scores(input_ids, attention_mask=input_ids != PAD_TOKEN)
    log_probs = F.log_softmax(scores.float(), dim=-1)
    return log_probs.gather(1, torch.as_tensor(items, device=device).view(-1, 1)).squeeze(1)


def preference_pairs_from_ratings(X, like=4, dislike=2):
    """(histories, pairs) for DPO from rated, timestamped events.

    For each user, in time order: every event rated >= ``like`` at position
    t >= 1 is the chosen item after the history of the t events before it;
    the rejected item is the first item the same user rated <= ``dislike``
    later than t. Both items were unseen at that moment, so the pair says
    which of two candidates for the next slot the user went on to like. A
    liked event with no dislike after it gives no pair (the pair count is
    at most the number of liked events, not their product with the dislikes).

    Parameters
    ----------
    X : Interactions
        With ratings and timestamps.
    like, dislike : float, default=4, 2
        Rating thresholds; ``dislike < like``.

    Returns
    -------
    histories : list of ndarray of int64
        Item indices in time order (the full history before the chosen event;
        the model reads its last ``max_len``).
    pairs : ndarray of shape (n_pairs, 2), int64
        (chosen, rejected) item indices.

    Examples
    --------
    >>> import pandas as pd
    >>> from recsys.datasets import Interactions
    >>> from recsys.neural import preference_pairs_from_ratings
    >>> events = pd.DataFrame({"user": [1, 1, 1, 1], "item": ["a", "b", "c", "d"],
    ...                        "rating": [3, 5, 4, 1], "time": [1, 2, 3, 4]})
    >>> data = Interactions.from_pandas(events, rating_col="rating", time_col="time")
    >>> histories, pairs = preference_pairs_from_ratings(data)
    >>> [[data.item_ids[i] for i in history] for history in histories]
    [['a'], ['a', 'b']]
    >>> [(data.item_ids[c], data.item_ids[r]) for c, r in pairs]
    [('b', 'd'), ('c', 'd')]
    """
    from recsys.neural._sequential import _check_interactions

    _check_interactions(X, "preference_pairs_from_ratings")
    if X.ratings is None:
        raise ValueError("X has no ratings: preference pairs come from ratings >= like against ratings "
                         "<= dislike. Build it with Interactions.from_pandas(..., rating_col=...).")
    if not (isinstance(like, Real) and isinstance(dislike, Real)) or not dislike < like:
        raise ValueError(f"dislike must be a number below like; got like={like!r}, dislike={dislike!r}.")
    order = X.time_order()  # by user, then time, ties in input order
    users = np.asarray(X.users)[order]
    items = np.asarray(X.items)[order].astype(np.int64)
    ratings = np.asarray(X.ratings)[order]
    bounds = np.searchsorted(users, np.arange(X.n_users + 1))
    histories, pairs = [], []
    for user in range(X.n_users):
        sequence = items[bounds[user]:bounds[user + 1]]
        rated = ratings[bounds[user]:bounds[user + 1]]
        disliked = np.flatnonzero(rated <= dislike)
        for t in np.flatnonzero(rated >= like):
            later = disliked[np.searchsorted(disliked, t, side="right"):]
            if t == 0 or len(later) == 0:
                continue
            histories.append(sequence[:t])
            pairs.append((sequence[t], sequence[later[0]]))
    return histories, np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


class PreferenceTuningMixin:
    """``fit_preferences`` for SequentialRecommender (DPO lives in this module)."""

    def fit_preferences(self, histories, pairs, beta=0.1, reference=None, epochs=1):
        """Fine-tune the fitted model on (history, chosen, rejected) preferences with DPO.

        The policy is ``model_`` (all its weights, or only its LoRA adapter
        after ``fine_tune(..., lora=...)``); the reference is frozen and
        never modified. Adam with the estimator's ``lr``, ``weight_decay``,
        ``batch_size`` and ``random_state`` (shuffling, dropout); no
        validation slice or early stopping (the preference loss is not the
        ranking metric: measure it, see benchmarks/dpo_effect.py). The MoE
        balance losses are not added.

        Parameters
        ----------
        histories : list of sequences of int
            Item indices in time order, one per pair (the last ``max_len``
            are read).
        pairs : array-like of shape (n_pairs, 2)
            (chosen, rejected) item indices; see
            :func:`preference_pairs_from_ratings`.
        beta : float, default=0.1
            The DPO temperature (> 0): smaller lets the policy drift further.
        reference : SequentialRecommender or None, default=None
            A fitted model on the same items; None uses a frozen copy of
            ``model_`` as it is before this call.
        epochs : int, default=1

        Returns
        -------
        self : object
            ``preference_history_`` lists, per epoch, the mean ``loss`` and the
            ``reward_accuracy`` (share of pairs whose implicit reward margin
            was positive while training).
        """
        check_is_fitted(self, "model_")
        if isinstance(beta, bool) or not isinstance(beta, Real) or not np.isfinite(beta) or beta <= 0:
            raise ValueError(f"beta must be a positive number; got {beta!r}.")
        if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 1:
            raise ValueError(f"epochs must be a positive int; got {epochs!r}.")
        histories, pairs = self._check_preferences(histories, pairs)
        policy = self.model_
        device = next(policy.parameters()).device
        if reference is None:
            reference_model = copy.deepcopy(policy)
        else:
            check_is_fitted(reference, "model_")
            if reference is self or reference.model_ is policy:
                raise ValueError("reference is this model itself, which DPO trains; pass reference=None for a "
                                 "frozen copy of it.")
            if getattr(reference, "n_items_", None) != self.n_items_:
                raise ValueError(f"reference must be fitted on the same {self.n_items_} items; it has "
                                 f"{getattr(reference, 'n_items_', None)}.")
            reference_model = reference.model_
        # The reference's log-probabilities never change: compute them once, without a graph.
        with torch.inference_mode():
            reference_log_probs = [
                next_item_log_probs(reference_model.eval(), histories, pairs[:, column], device).detach().clone()
                for column in (0, 1)
            ]
        trainable = [parameter for parameter in policy.parameters() if parameter.requires_grad]
        optimizer = torch.optim.Adam(trainable, lr=self.lr, weight_decay=self.weight_decay)
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31))
        self.preference_history_ = []
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(int(rng.integers(2**31)))
            for epoch in range(1, epochs + 1):
                policy.train()
                total, correct = 0.0, 0
                order = rng.permutation(len(pairs))
                for start in range(0, len(order), self.batch_size):
                    batch = order[start:start + self.batch_size]
                    batch_histories = [histories[i] for i in batch]
                    chosen, rejected = (next_item_log_probs(policy, batch_histories, pairs[batch, column], device)
                                        for column in (0, 1))
                    index = torch.as_tensor(batch, device=device)
                    losses = dpo_loss(chosen, rejected, reference_log_probs[0][index],
                                      reference_log_probs[1][index], beta)
                    optimizer.zero_grad()
                    losses.mean().backward()
                    optimizer.step()
                    total += losses.sum().item()
                    correct += int((losses < np.log(2)).sum())  # margin > 0 exactly when loss < log 2
                self.preference_history_.append({"epoch": epoch, "loss": total / len(pairs),
                                                 "reward_accuracy": correct / len(pairs)})
        self.model_ = policy.eval()
        return self

    def _check_preferences(self, histories, pairs):
        pairs = np.asarray(pairs)
        if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.dtype.kind not in "iu":
            raise ValueError(f"pairs must be an integer array of shape (n_pairs, 2) holding (chosen, rejected) "
                             f"item indices; got shape {pairs.shape} and dtype {pairs.dtype}.")
        if len(pairs) == 0:
            raise ValueError("pairs is empty: nothing to learn from.")
        if not isinstance(histories, (list, tuple)) or len(histories) != len(pairs):
            raise ValueError(f"histories must be a list with one sequence per pair ({len(pairs)}); got "
                             f"{type(histories).__name__} of length {len(histories) if hasattr(histories, '__len__') else '?'}.")
        outside = (pairs < 0) | (pairs >= self.n_items_)
        if outside.any():
            raise ValueError(f"pairs hold item indices outside [0, {self.n_items_}): {pairs[outside][:5].tolist()}.")
        if (pairs[:, 0] == pairs[:, 1]).any():
            raise ValueError("a pair prefers an item to itself; drop pairs whose chosen and rejected items are equal.")
        from recsys.neural._sequential import _check_sequence

        # Long histories are fine here: the model reads their last max_len items.
        checked = [_check_sequence(history, row, self.n_items_, max(len(history), 1))
                   for row, history in enumerate(histories)]
        return checked, pairs.astype(np.int64)
