from __future__ import annotations

import torch

from dfs_models.quant import ActQuantizer, quantize_range, quantize_weight


def test_quantize_range_has_2_to_b_levels_and_keeps_endpoints() -> None:
    x = torch.linspace(-1.0, 3.0, 1000)
    q = quantize_range(x, torch.tensor(-1.0), torch.tensor(3.0), 2)
    assert torch.unique(q).numel() == 4
    assert float(q.min()) == -1.0 and abs(float(q.max()) - 3.0) < 1e-6


def test_quantize_clamps_outside_the_range() -> None:
    q = quantize_range(torch.tensor([-5.0, 5.0]), torch.tensor(0.0), torch.tensor(1.0), 8)
    assert q.tolist() == [0.0, 1.0]


def test_straight_through_gradient_is_identity() -> None:
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    (quantize_weight(w, 8) * torch.arange(108.0).view_as(w)).sum().backward()
    assert torch.equal(w.grad, torch.arange(108.0).view_as(w))


def test_32_bits_is_no_quantization() -> None:
    w = torch.randn(10)
    assert quantize_weight(w, 32) is w
    assert ActQuantizer(1)(w, 32, 0) is w


def test_weight_quantization_error_shrinks_with_bits() -> None:
    w = torch.randn(1000)
    errors = [float((quantize_weight(w, b) - w).abs().max()) for b in (4, 8, 16)]
    assert errors[0] > errors[1] > errors[2]


def test_activation_range_is_batch_mean_of_per_sample_min_max() -> None:
    quant = ActQuantizer(2).train()
    x = torch.stack([torch.linspace(0.0, 1.0, 10), torch.linspace(-1.0, 3.0, 10)])
    quant(x, 8, 1)
    assert float(quant.running_min[1]) == -0.5 and float(quant.running_max[1]) == 2.0
    assert not bool(quant.initialized[0])


def test_eval_uses_the_running_range_and_is_deterministic() -> None:
    quant = ActQuantizer(1).train()
    quant(torch.rand(8, 5), 4, 0)
    quant.eval()
    x = torch.rand(3, 5) * 2
    first, second = quant(x, 4, 0), quant(x, 4, 0)
    assert torch.equal(first, second)
    assert float(first.max()) <= float(quant.running_max[0]) + 1e-6
    # Per-input: the output of one input does not depend on the rest of the batch.
    assert torch.equal(quant(x[:1], 4, 0), first[:1])
