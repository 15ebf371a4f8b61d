"""SASRecConfig / SASRecModel: shapes, causality, positions, MoE, losses, Hugging Face round trips."""

import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
from transformers import AutoConfig, AutoModel, Trainer, TrainingArguments

from recsys.neural import SASRecConfig, SASRecModel, gbce_beta
from recsys.neural._sasrec import apply_rotary, positions_from_mask

torch.set_num_threads(1)

N_ITEMS = 30


def tiny_config(**overrides):
    settings = {"n_items": N_ITEMS, "max_len": 12, "hidden_size": 8, "n_layers": 2, "n_heads": 2,
                "intermediate_size": 16, "dropout": 0.0, "n_experts": 4, "moe_top_k": 2, "n_negatives": 5}
    return SASRecConfig(**{**settings, **overrides})


def tiny_model(seed=0, **overrides):
    torch.manual_seed(seed)
    return SASRecModel(tiny_config(**overrides)).eval()


def batch(seed=0, batch_size=3, length=7):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, N_ITEMS + 1, (batch_size, length), generator=generator)


VARIANTS = [{"position_encoding": pe, "ffn": ffn} for pe in ("learned", "rope") for ffn in ("dense", "moe")]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: f"{v['position_encoding']}-{v['ffn']}")
def test_forward_shapes(variant):
    model = tiny_model(**variant)
    ids = batch()
    output = model(ids, attention_mask=torch.ones_like(ids))
    assert output.logits.shape == (3, 7, N_ITEMS + 1)
    assert output.last_hidden_state.shape == (3, 7, 8)
    assert output.loss is None
    # The padding token is never the best prediction.
    assert (output.logits.argmax(-1) != 0).all()
    assert model.last_item_scores(ids).shape == (3, N_ITEMS)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: f"{v['position_encoding']}-{v['ffn']}")
def test_future_items_do_not_change_earlier_outputs(variant):
    model = tiny_model(**variant)
    ids = batch()
    changed = ids.clone()
    changed[:, 4:] = (changed[:, 4:] % N_ITEMS) + 1  # other items from position 4 on
    with torch.no_grad():
        before = model(ids).last_hidden_state
        after = model(changed).last_hidden_state
    torch.testing.assert_close(before[:, :4], after[:, :4])
    assert not torch.allclose(before[:, 4:], after[:, 4:])


@pytest.mark.parametrize("position_encoding", ["learned", "rope"])
def test_padding_on_either_side_leaves_the_real_outputs_unchanged(position_encoding):
    model = tiny_model(position_encoding=position_encoding)
    ids = batch(batch_size=1, length=5)
    left = torch.cat([torch.zeros(1, 3, dtype=torch.long), ids], dim=1)
    right = torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], dim=1)
    with torch.no_grad():
        plain = model(ids).last_hidden_state
        torch.testing.assert_close(model(left, attention_mask=left > 0).last_hidden_state[:, 3:], plain)
        torch.testing.assert_close(model(right, attention_mask=right > 0).last_hidden_state[:, :5], plain)
        torch.testing.assert_close(model.last_item_scores(left), model.last_item_scores(right))


def test_positions_count_back_from_the_latest_item_by_default():
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    # "end": the latest real token sits at max_len - 1 whatever the history's length and padding side.
    torch.testing.assert_close(positions_from_mask(mask, 12, "end"),
                               torch.tensor([[0, 0, 9, 10, 11], [10, 11, 0, 0, 0], [7, 8, 9, 10, 11]]))
    torch.testing.assert_close(positions_from_mask(mask, 12, "start"),
                               torch.tensor([[0, 0, 0, 1, 2], [0, 1, 0, 0, 0], [0, 1, 2, 3, 4]]))
    assert tiny_config().position_from == "end"


def test_more_padding_leaves_the_latest_item_on_the_same_position_embedding():
    model = tiny_model()  # learned positions counted from the end
    table = model.position_embeddings.weight
    seen = []
    # Record what the position table adds to every token: the latest item's row must be max_len - 1.
    handle = model.position_embeddings.register_forward_hook(lambda module, args, output: seen.append(args[0]))
    ids = batch(batch_size=1, length=3)
    with torch.no_grad():
        for pad in (0, 2, 9):
            padded = torch.cat([torch.zeros(1, pad, dtype=torch.long), ids], dim=1)
            model(padded, attention_mask=padded > 0)
    handle.remove()
    assert [positions[0, -1].item() for positions in seen] == [11, 11, 11]
    assert [positions[0, -3:].tolist() for positions in seen] == [[9, 10, 11]] * 3
    assert table.shape[0] == 12


@pytest.mark.parametrize("position_encoding", ["learned", "rope"])
def test_counting_from_the_end_or_the_start(position_encoding):
    start = tiny_model(position_encoding=position_encoding, position_from="start")
    end = tiny_model(position_encoding=position_encoding, position_from="end")
    full, short = batch(batch_size=2, length=12), batch(batch_size=2, length=4)
    with torch.no_grad():
        # A history that fills max_len has the same positions either way.
        torch.testing.assert_close(end.last_item_scores(full), start.last_item_scores(full))
        if position_encoding == "rope":
            # Rotary attention sees offsets only, which a common shift leaves alone.
            torch.testing.assert_close(end.last_item_scores(short), start.last_item_scores(short))
        else:
            assert not torch.allclose(end.last_item_scores(short), start.last_item_scores(short))


def _attend_to_padded_slots(model, ids):
    """Reference for the sink: the history left-padded to max_len, every empty slot a zero vector before
    each block and visible to attention (as RecTools and SASRec.pytorch, which do not mask padding keys)."""
    padded = torch.cat([torch.zeros(len(ids), model.config.max_len - ids.shape[1], dtype=torch.long), ids], 1)
    real = padded > 0
    positions = positions_from_mask(real, model.config.max_len, model.config.position_from)
    x = model.item_embeddings(padded) * math.sqrt(model.config.hidden_size)
    if model.position_embeddings is not None:
        x = x + model.position_embeddings(positions)
    length = padded.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool).tril()[None, None]
    for block in model.blocks:
        x, _, _ = block(x * real[..., None], causal, positions, real, sink=False)
    return model.final_norm(x)[:, -ids.shape[1]:]


@pytest.mark.parametrize("position_encoding", ["learned", "rope"])
@pytest.mark.parametrize("length", [1, 5, 11])
def test_the_sink_stands_for_every_empty_slot_of_the_window(length, position_encoding):
    model = tiny_model(attention_sink=True, position_encoding=position_encoding)
    ids = batch(length=length)
    with torch.no_grad():
        torch.testing.assert_close(model(ids).last_hidden_state, _attend_to_padded_slots(model, ids))


def test_the_sink_adds_no_weights_and_is_silent_when_the_window_is_full():
    with_sink, without = tiny_model(attention_sink=True), tiny_model(attention_sink=False)
    assert with_sink.state_dict().keys() == without.state_dict().keys()
    without.load_state_dict(with_sink.state_dict())
    full, short = batch(length=12), batch(length=4)
    with torch.no_grad():
        torch.testing.assert_close(with_sink(full).logits, without(full).logits)
        # Shorter histories do see it: the weight of 8 empty slots.
        assert not torch.allclose(with_sink(short).logits, without(short).logits)
    assert tiny_config().attention_sink is True


def test_rope_has_no_position_table_and_attends_by_relative_position():
    learned, rope = tiny_model(), tiny_model(position_encoding="rope")
    assert learned.position_embeddings.weight.shape == (12, 8)
    assert rope.position_embeddings is None
    assert not any("position" in name for name, _ in rope.named_parameters())
    # Rotary dot products depend on the offset between positions only.
    generator = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 1, 2, 1, 4, generator=generator)
    positions = torch.tensor([[2, 5]])
    shifted = positions + 7
    dot = (apply_rotary(q, positions[:, :1], 10000.0) * apply_rotary(k, positions[:, 1:], 10000.0)).sum()
    dot_shifted = (apply_rotary(q, shifted[:, :1], 10000.0) * apply_rotary(k, shifted[:, 1:], 10000.0)).sum()
    torch.testing.assert_close(dot, dot_shifted)
    # ...and a rope model still reads order: swapping two earlier items changes the last output.
    ids = batch(batch_size=1, length=4)
    swapped = ids[:, [1, 0, 2, 3]]
    with torch.no_grad():
        assert not torch.allclose(rope.last_item_scores(ids), rope.last_item_scores(swapped))


def test_moe_aux_loss_is_added_and_counts_every_routed_token():
    model = tiny_model(ffn="moe")
    ids = batch()
    ids[0, :2] = 0  # two padding tokens: not routed
    labels = torch.roll(ids, -1, dims=1)
    output = model(ids, labels=labels)
    n_real = int((ids > 0).sum())
    assert output.expert_counts.shape == (2, 4)
    assert (output.expert_counts.sum(dim=1) == n_real * 2).all()  # moe_top_k = 2 assignments per token
    recommendation = model.recommendation_loss(output.last_hidden_state, labels)
    torch.testing.assert_close(output.loss, recommendation + output.aux_loss)
    assert output.aux_loss > 0


def test_moe_aux_loss_formula_on_a_uniform_router():
    model = tiny_model(ffn="moe", n_layers=1, moe_aux_loss_coef=0.5, router_z_loss_coef=0.25)
    with torch.no_grad():
        model.blocks[0].ffn.router.weight.zero_()
    output = model(batch())
    # Uniform router probabilities 1/E: the balance loss E * sum_e f_e / E is 1 whatever the
    # assignment, and the z-loss is log(E)^2.
    expected = 0.5 * 1.0 + 0.25 * math.log(4) ** 2
    torch.testing.assert_close(output.aux_loss, torch.tensor(expected))


def test_shared_expert_is_always_applied():
    with_shared = tiny_model(ffn="moe", shared_expert=True)
    without = tiny_model(ffn="moe")
    assert with_shared.blocks[0].ffn.shared is not None and without.blocks[0].ffn.shared is None
    n_shared = sum(p.numel() for p in with_shared.blocks[0].ffn.shared.parameters())
    assert (sum(p.numel() for p in with_shared.parameters())
            == sum(p.numel() for p in without.parameters()) + 2 * n_shared)


def test_dense_model_has_no_aux_loss():
    output = tiny_model()(batch(), labels=batch(1))
    assert output.aux_loss == 0 and output.expert_counts is None


def test_input_and_output_item_embeddings_are_one_matrix():
    model = tiny_model()
    hidden = torch.randn(2, 8)
    scores = model.item_scores(hidden)
    torch.testing.assert_close(scores[:, 1:], hidden @ model.item_embeddings.weight[1:].T)  # no offset: loss "ce"


# ---------------------------------------------------------------------- losses
def test_gbce_beta_formula():
    # alpha = k / (|I| - 1); beta = alpha (t (1 - 1/alpha) + 1/alpha)
    assert gbce_beta(4, 101, 0.5) == pytest.approx(0.04 * (0.5 * (1 - 25) + 25))
    assert gbce_beta(10, 1001, 1.0) == pytest.approx(10 / 1000)  # fully calibrated: beta = alpha
    assert gbce_beta(10, 1001, 0.0) == pytest.approx(1.0)  # plain BCE
    with pytest.raises(ValueError, match="t must lie"):
        gbce_beta(4, 101, 1.5)


def test_ce_loss_is_full_softmax_cross_entropy():
    model = tiny_model()
    ids, labels = batch(), batch(1)
    labels[0, 0] = -100
    output = model(ids, labels=labels)
    valid = labels > 0
    expected = torch.nn.functional.cross_entropy(output.logits[valid], labels[valid])
    torch.testing.assert_close(output.loss, expected)


@pytest.mark.parametrize("loss", ["bce", "gbce"])
def test_sampled_losses_match_their_formula(loss):
    model = tiny_model(loss=loss)
    ids, labels = batch(), batch(1)
    n_negatives = 1 if loss == "bce" else 5
    negatives = torch.randint(1, N_ITEMS + 1, (3, 7, n_negatives), generator=torch.Generator().manual_seed(2))
    output = model(ids, labels=labels, negative_ids=negatives)
    hidden, weights = output.last_hidden_state, model.item_embeddings.weight
    # gBCE scores carry the calibrated offset of the config's 5 negatives (see below); BCE's is 0
    offset = 0.0 if loss == "bce" else math.log(gbce_beta(5, N_ITEMS, 0.75) / 5)
    positive = (hidden * weights[labels]).sum(-1) + offset
    negative = torch.einsum("bld,blkd->blk", hidden, weights[negatives]) + offset
    beta = 1.0 if loss == "bce" else gbce_beta(5, N_ITEMS, 0.75)
    expected = (-beta * torch.nn.functional.logsigmoid(positive)
                - torch.nn.functional.logsigmoid(-negative).sum(-1)).mean()
    torch.testing.assert_close(output.loss, expected)
    assert output.logits is None  # sampled losses skip the full score matrix


@pytest.mark.parametrize(("loss", "n_negatives", "t"), [("gbce", 256, 0.75), ("gbce", 8, 0.0), ("bce", 1, 0.0)])
def test_score_offset_starts_sampled_losses_at_their_best_constant_score(loss, n_negatives, t):
    # Among equal scores s, -beta log sigmoid(s) - k log sigmoid(-s) is least at s = log(beta / k):
    # a model whose raw scores are 0 starts there, so its first steps need not lower every score.
    model = tiny_model(loss=loss, n_negatives=n_negatives, gbce_t=t)
    k = 1 if loss == "bce" else n_negatives
    beta = 1.0 if loss == "bce" else gbce_beta(n_negatives, N_ITEMS, t)
    constant = torch.linspace(-12, 4, 16001, dtype=torch.float64)
    loss_at = -beta * torch.nn.functional.logsigmoid(constant) - k * torch.nn.functional.logsigmoid(-constant)
    assert model.score_offset == pytest.approx(constant[loss_at.argmin()].item(), abs=1e-3)
    hidden = torch.randn(2, 8)
    raw = hidden @ model.item_embeddings.weight[1:].T
    torch.testing.assert_close(model.item_scores(hidden)[:, 1:], raw + model.score_offset)
    assert tiny_model(loss="ce").score_offset == 0.0


def test_sampled_negatives_are_uniform_over_the_other_items():
    model = tiny_model(loss="gbce")
    positives = torch.full((4000,), 7)
    negatives = model.sample_negatives(positives, 3, torch.Generator().manual_seed(0))
    assert negatives.shape == (4000, 3)
    assert ((negatives >= 1) & (negatives <= N_ITEMS)).all() and (negatives != 7).all()
    counts = np.bincount(negatives.flatten().numpy(), minlength=N_ITEMS + 1)[1:]
    assert counts[6] == 0 and np.delete(counts, 6).min() > 0.6 * 12000 / 29


# ---------------------------------------------------------------------- Hugging Face integration
def test_save_pretrained_round_trips_through_safetensors_and_auto_classes(tmp_path):
    model = tiny_model(ffn="moe", position_encoding="rope", shared_expert=True)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    assert not list(tmp_path.glob("*.bin"))
    ids = batch()
    with torch.no_grad():
        expected = model(ids).logits
        for loaded in (SASRecModel.from_pretrained(tmp_path), AutoModel.from_pretrained(tmp_path)):
            assert type(loaded) is SASRecModel
            torch.testing.assert_close(loaded.eval()(ids).logits, expected)
    config = AutoConfig.from_pretrained(tmp_path)
    assert type(config) is SASRecConfig and config.model_type == "recsys_sasrec"
    assert (config.n_items, config.ffn, config.position_encoding) == (N_ITEMS, "moe", "rope")


@pytest.mark.parametrize("key, trained_with", [("position_from", "start"), ("attention_sink", False)])
def test_configs_saved_before_an_option_existed_load_as_trained(tmp_path, key, trained_with):
    import json

    old = tiny_model(**{key: trained_with})
    old.save_pretrained(tmp_path)
    config_file = tmp_path / "config.json"
    values = json.loads(config_file.read_text())
    assert values.pop(key) == trained_with
    config_file.write_text(json.dumps(values))  # as written before the key existed
    ids = batch(length=5)
    with torch.no_grad():
        expected = old(ids).logits
        for loaded in (SASRecModel.from_pretrained(tmp_path), AutoModel.from_pretrained(tmp_path)):
            assert getattr(loaded.config, key) == trained_with
            torch.testing.assert_close(loaded.eval()(ids).logits, expected)
    assert getattr(SASRecConfig.from_dict(values), key) == trained_with
    # New configs save the key, so they load as saved, the new default included.
    tiny_model().save_pretrained(tmp_path / "new")
    assert getattr(SASRecModel.from_pretrained(tmp_path / "new").config, key) == getattr(tiny_config(), key)


def test_auto_model_builds_from_a_config():
    model = AutoModel.from_config(tiny_config())
    assert isinstance(model, SASRecModel)


def test_two_step_trainer_run(tmp_path):
    # Run from the repository root, as pytest is: Hugging Face's datasets (a neural dependency) must
    # win over the registry folder datasets/ (tests/datasets/test_registry.py), or Trainer fails.
    model = tiny_model().train()
    ids = batch(batch_size=8, length=6)
    examples = [{"input_ids": row[:-1], "attention_mask": torch.ones(5, dtype=torch.long), "labels": row[1:]}
                for row in ids]
    before = {name: value.detach().clone() for name, value in model.named_parameters()}
    arguments = TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4,
                                  learning_rate=1e-2, report_to=[], save_strategy="no", use_cpu=True,
                                  dataloader_num_workers=0, disable_tqdm=True)
    result = Trainer(model=model, args=arguments, train_dataset=examples).train()
    assert result.global_step == 2 and np.isfinite(result.training_loss)
    assert any(not torch.equal(before[name], value) for name, value in model.named_parameters())


# ---------------------------------------------------------------------- bad configs and inputs
@pytest.mark.parametrize("settings, message", [
    ({"hidden_size": 10, "n_heads": 3}, "multiple of n_heads"),
    ({"position_encoding": "sinusoidal"}, "position_encoding"),
    ({"position_from": "middle"}, "position_from must be one of"),
    ({"ffn": "sparse"}, "ffn must be one of"),
    ({"loss": "bpr"}, "loss must be one of"),
    ({"moe_top_k": 5, "n_experts": 4}, "moe_top_k"),
    ({"hidden_size": 6, "n_heads": 2, "position_encoding": "rope"}, "even head size"),
    ({"n_items": 0}, "n_items must be a positive integer"),
    ({"gbce_t": 2.0}, "gbce_t"),
    ({"dropout": 1.0}, "dropout"),
    ({"attention_sink": "yes"}, "attention_sink must be one of"),
])
def test_bad_configs_rejected(settings, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**settings)


def test_model_needs_n_items():
    with pytest.raises(ValueError, match="n_items is None"):
        SASRecModel(SASRecConfig())


def test_bad_model_inputs_rejected():
    model = tiny_model()
    with pytest.raises(ValueError, match="exceed max_len=12"):
        model(torch.ones(1, 13, dtype=torch.long))
    with pytest.raises(ValueError, match=r"token ids in \[0, 30\]"):
        model(torch.tensor([[1, 31]]))
    with pytest.raises(ValueError, match="batch, length"):
        model(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="labels must be token ids"):
        model(torch.tensor([[1, 2]]), labels=torch.tensor([[2, 31]]))
