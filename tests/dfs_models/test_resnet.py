from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from dfs_models.errors import DfsError
from dfs_models.resnet import MODEL_BUILDERS, SKIPNET_OPTIONS, ModelSpec, build_model


def _eval_ready(spec: ModelSpec, seed: int = 0) -> torch.nn.Module:
    """A model whose BN and activation ranges have seen one training batch, in eval mode."""
    torch.manual_seed(seed)
    model = build_model(spec)
    model.train()
    model(torch.randn(16, spec.in_channels, spec.input_size, spec.input_size))
    return model.eval()


def test_builders_are_registered_by_name_with_6n_plus_2_depths(tiny_spec: ModelSpec) -> None:
    assert set(MODEL_BUILDERS) == {"resnet8", "resnet14", "resnet38", "resnet74"}
    model = build_model(dataclasses.replace(tiny_spec, arch="resnet38"))
    assert len(model.blocks()) == 18 and len(model.gated_blocks()) == 17
    with pytest.raises(DfsError, match="unknown model 'resnet9'"):
        build_model(dataclasses.replace(tiny_spec, arch="resnet9"))


def test_resnet74_matches_the_paper_counts() -> None:
    model = build_model(ModelSpec("resnet74", options=()))
    params = sum(p.numel() for p in model.parameters())
    assert 1.14e6 < params < 1.17e6  # 1.15M (Shen et al. 2020)
    # 168.2M MACs per 3x32x32 image; a normal block 4,718,592 MACs.
    assert abs(model.total_macs - 168.2e6) < 0.2e6
    assert model.groups[0][1].conv_macs == 4_718_592
    assert len(build_model(ModelSpec("resnet74")).gated_blocks()) == 35


def test_forward_shapes_and_one_hot_masks(tiny_spec: ModelSpec) -> None:
    model = build_model(tiny_spec)
    logits, stats = model(torch.randn(5, 1, 12, 12))
    assert logits.shape == (5, 10)
    assert stats.masks.shape == (5, 5, 4) and stats.probs.shape == (5, 5, 4)
    hard = stats.masks.detach()
    assert torch.allclose(hard.sum(dim=2), torch.ones(5, 5))
    assert torch.allclose(hard, F.one_hot(stats.decisions, 4).float(), atol=1e-6)
    assert 0.0 <= float(stats.cp_paper.detach()) <= 1.0
    assert 0.0 < float(stats.cp_flop.detach()) <= 1.0


def test_straight_through_gradient_reaches_every_gate_parameter(tiny_spec: ModelSpec) -> None:
    model = build_model(tiny_spec)
    logits, stats = model(torch.randn(6, 1, 12, 12))
    (F.cross_entropy(logits, torch.arange(6)) + stats.cost.sum()).backward()
    gate_params = [(n, p) for n, p in model.named_parameters()
                   if "gate_proj" in n or n.startswith("controller.")]
    assert len(gate_params) == 2 * 5 + 4 + 2
    for name, param in gate_params:
        assert param.grad is not None and float(param.grad.abs().sum()) > 0, name


def test_first_block_and_shortcuts_stay_full_precision(tiny_spec: ModelSpec) -> None:
    model = build_model(tiny_spec)
    names = [name for name, _ in model.gated_blocks()]
    assert "group1.block0" not in names and names[0] == "group1.block1"
    down = dict(model.blocks())["group2.block0"]
    x = torch.randn(2, 16, 12, 12)
    assert torch.equal(down.run_option(x, 0), down.shortcut(x))  # skip = the 1x1 shortcut
    plain = dict(model.blocks())["group1.block1"]
    assert torch.equal(plain.run_option(x, 0), x)


def test_eval_is_deterministic(tiny_spec: ModelSpec) -> None:
    model = _eval_ready(tiny_spec)
    x = torch.randn(7, 1, 12, 12)
    first, second = model(x), model(x)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1].masks, second[1].masks)
    assert torch.equal(model.infer(x)[0], model.infer(x)[0])


@pytest.mark.parametrize("options", [(0, 8, 16, 32), SKIPNET_OPTIONS, (8, 32), ()])
def test_inference_path_matches_training_path(tiny_spec: ModelSpec, options) -> None:
    model = _eval_ready(dataclasses.replace(tiny_spec, options=options), seed=3)
    with torch.no_grad():
        # Spread the gate's choices so that every option is exercised.
        if options:
            model.controller.head.weight.mul_(40.0)
        x = torch.randn(24, 1, 12, 12)
        logits, stats = model(x)
        fast, decisions = model.infer(x)
    assert torch.equal(decisions, stats.decisions)
    assert torch.allclose(fast, logits, atol=1e-4, rtol=1e-4)
    if options == (0, 8, 16, 32):
        assert torch.unique(decisions).numel() >= 3


def test_cp_definitions(tiny_spec: ModelSpec) -> None:
    model = build_model(tiny_spec)
    n_gated = len(model.gated_blocks())
    all_full = torch.full((2, n_gated), 3)
    paper, flop, cost = model.cp_of_decisions(all_full)
    assert torch.allclose(paper, torch.ones(2)) and torch.allclose(flop, torch.ones(2))
    assert torch.allclose(cost, paper)  # the paper's cost model by default
    all_skip = torch.zeros(1, n_gated, dtype=torch.long)
    paper, flop, _ = model.cp_of_decisions(all_skip)
    assert float(paper) == 0.0
    assert abs(float(flop) - model.fixed_macs / model.total_macs) < 1e-6
    eight = torch.ones(1, n_gated, dtype=torch.long)  # option 1 = 8 bits: (8/32)^2
    assert abs(float(model.cp_of_decisions(eight)[0]) - 1 / 16) < 1e-7
    # The forward's statistics agree with the decision-based figures.
    with torch.no_grad():
        _, stats = model(torch.randn(4, 1, 12, 12))
    paper, flop, cost = model.cp_of_decisions(stats.decisions)
    assert abs(float(stats.cp_paper) - float(paper.mean())) < 1e-6
    assert abs(float(stats.cp_cost) - float(cost.mean())) < 1e-6
    assert abs(float(stats.cp_flop) - float(flop.mean())) < 1e-6


def test_ungated_model_has_no_gates_and_cp_one(tiny_spec: ModelSpec) -> None:
    model = build_model(dataclasses.replace(tiny_spec, options=()))
    assert model.controller is None and not model.gated_blocks()
    logits, stats = model(torch.randn(3, 1, 12, 12))
    assert logits.shape == (3, 10) and float(stats.cp_paper) == 1.0
    assert stats.masks.shape == (3, 0, 1)


def test_eval_of_an_option_uses_only_that_options_bn_statistics(tiny_spec: ModelSpec) -> None:
    """Per-option running statistics: perturbing another option's slot changes nothing."""
    model = _eval_ready(tiny_spec)
    block = dict(model.blocks())["group2.block0"]
    x = torch.randn(4, 16, 12, 12)
    slots = {bits: block.bit_options.index(bits) for bits in (8, 16, 32)}
    reference = {bits: block.run_option(x, bits) for bits in slots}
    for bits, slot in slots.items():
        for bn in (block.bn1, block.bn2):
            assert bn.running_mean.shape[0] == 3
            saved = bn.running_mean.clone()
            bn.running_mean[[s for s in range(3) if s != slot]] += 5.0
            assert torch.equal(block.run_option(x, bits), reference[bits])
            bn.running_mean[slot] += 5.0
            assert not torch.equal(block.run_option(x, bits), reference[bits])
            bn.running_mean.copy_(saved)


def test_training_updates_every_options_own_statistics(tiny_spec: ModelSpec) -> None:
    model = build_model(tiny_spec).train()
    block = dict(model.blocks())["group1.block1"]
    model(torch.randn(8, 1, 12, 12))
    stats = block.bn1.running_mean
    # Every branch ran on the whole batch, each at its bits: three different estimates.
    assert not torch.equal(stats[0], stats[1]) and not torch.equal(stats[1], stats[2])
    assert block.bn1.num_batches_tracked.tolist() == [1, 1, 1]


def test_an_untrained_activation_range_is_an_error_at_eval(tiny_spec: ModelSpec) -> None:
    model = build_model(tiny_spec).eval()
    with pytest.raises(DfsError, match="never trained"):
        model.infer(torch.randn(2, 1, 12, 12))
