"""ShortcutNet: the model contract, and for each shortcut exactly the tensors that cross to the decoder."""

import pytest
import torch
from torch import nn

from segedu.models import get_model
from segedu.models.shortcut_variants import CONTROLS, SHORTCUTS, DecoderLevel, ShortcutNet


def build(shortcut: str, in_channels: int = 3, seed: int = 0) -> ShortcutNet:
    torch.manual_seed(seed)
    return ShortcutNet(in_channels, 4, base_channels=4, depth=3, shortcut=shortcut)


@pytest.mark.parametrize("shortcut", SHORTCUTS + CONTROLS)
@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize("size", [(8, 8), (37, 53), (64, 64)])
def test_logits_have_the_input_size(shortcut, in_channels, size) -> None:
    model = build(shortcut, in_channels).eval()
    with torch.no_grad():
        logits = model(torch.rand(2, in_channels, *size))
    assert logits.shape == (2, 4, *size)


@pytest.mark.parametrize("shortcut", SHORTCUTS)
def test_wrong_inputs_and_arguments_raise(shortcut) -> None:
    model = build(shortcut).eval()
    with pytest.raises(ValueError, match=r"expected input of shape \(B, 3, H, W\)"):
        model(torch.rand(1, 1, 16, 16))
    with pytest.raises(ValueError, match="H and W >= 8 because it halves the resolution 3 times"):
        model(torch.rand(1, 3, 7, 16))
    with pytest.raises(ValueError, match="in_channels must be 1"):
        ShortcutNet(2, 4, shortcut=shortcut)


def test_unknown_shortcut_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"shortcut must be one of \('none', 'add', 'indices', 'concat'\) or the "
                                         r"control 'fixed_unpool'; got 'skip'"):
        ShortcutNet(3, 4, shortcut="skip")


def test_registry_builds_it() -> None:
    model = get_model("shortcut_net", in_channels=3, num_classes=4, shortcut="concat")
    assert isinstance(model, ShortcutNet) and model.shortcut == "concat"


def _logits_with_replaced_skips(model: ShortcutNet, x: torch.Tensor, *, skip: bool, indices: bool) -> torch.Tensor:
    """Logits when every encoder level hands the decoder a different skip map and/or different indices."""
    generator = torch.Generator().manual_seed(1)

    def replace(_module, _inputs, output):
        encoder_map, pooled, where = output
        if skip:
            encoder_map = torch.randn(encoder_map.shape, generator=generator)
        if indices:  # still valid positions: the top-left of each 2x2 window instead of the maximum
            width = encoder_map.shape[-1]
            rows = torch.arange(where.shape[-2])[:, None] * 2 * width
            where = (rows + torch.arange(where.shape[-1])[None, :] * 2).expand_as(where).contiguous()
        return encoder_map, pooled, where

    handles = [level.register_forward_hook(replace) for level in model.encoder.values()]
    try:
        with torch.no_grad():
            return model(x)
    finally:
        for handle in handles:
            handle.remove()


@pytest.mark.parametrize(("shortcut", "uses_skip", "uses_indices"), [
    ("none", False, False), ("add", True, False), ("indices", False, True), ("concat", True, False),
    ("fixed_unpool", False, False),
])
def test_only_the_named_tensors_cross(shortcut, uses_skip, uses_indices) -> None:
    """The bottleneck path is left untouched (the pooled maps); only the shortcut's inputs are swapped."""
    model = build(shortcut).eval()
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference = model(x)
    after_skip = _logits_with_replaced_skips(model, x, skip=True, indices=False)
    after_indices = _logits_with_replaced_skips(model, x, skip=False, indices=True)
    assert torch.equal(after_skip, reference) is not uses_skip
    assert torch.equal(after_indices, reference) is not uses_indices


@pytest.mark.parametrize("shortcut", SHORTCUTS)
def test_decoder_level_gradient_reaches_the_skip_only_when_it_crosses(shortcut) -> None:
    torch.manual_seed(0)
    level = DecoderLevel(4, 4, shortcut)
    x = torch.rand(1, 4, 4, 4)
    skip = torch.rand(1, 4, 8, 8, requires_grad=True)
    _, indices = nn.MaxPool2d(2, return_indices=True)(torch.rand(1, 4, 8, 8))
    level(x, skip, indices).sum().backward()
    crosses = skip.grad is not None and bool(skip.grad.abs().sum() > 0)
    assert crosses == (shortcut in ("add", "concat"))


def test_same_seed_same_encoder_bottleneck_and_classifier() -> None:
    models = {shortcut: build(shortcut, seed=3) for shortcut in SHORTCUTS}
    for part in ("encoder", "bottleneck", "classifier"):
        states = [getattr(model, part).state_dict() for model in models.values()]
        for state in states[1:]:
            assert all(torch.equal(state[key], states[0][key]) for key in state)
    assert not torch.equal(build("none", seed=3).encoder.level1.convs.conv1.conv.weight,
                           build("none", seed=4).encoder.level1.convs.conv1.conv.weight)


def test_parameter_counts_differ_only_by_the_shortcut_layers() -> None:
    counts = {shortcut: sum(p.numel() for p in ShortcutNet(3, 4, shortcut=shortcut).parameters())
              for shortcut in SHORTCUTS}
    print(counts)
    widths = [8, 16, 32]
    up_convs = sum(4 * w * w + w for w in widths)  # the 2x2 transposed convs (with bias) "indices" does without
    projections = sum(w * w + w for w in widths)  # "add": one 1x1 conv per level
    wider_first_convs = sum(9 * w * w for w in widths)  # "concat": each decoder level's first conv sees 2w channels
    assert counts["none"] - counts["indices"] == up_convs
    assert counts["add"] - counts["none"] == projections
    assert counts["concat"] - counts["none"] == wider_first_convs
    assert counts == {"none": 60932, "add": 62332, "indices": 55500, "concat": 73028}


def test_classifier_is_the_last_module_so_the_prior_bias_lands_there() -> None:
    model = build("add")
    last = [module for module in model.modules() if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d))][-1]
    assert last is model.classifier and model.classifier.out_channels == 4


def test_fixed_unpool_puts_each_value_at_its_windows_top_left() -> None:
    level = DecoderLevel(1, 1, "fixed_unpool")
    seen = []  # what reaches the convolutions after the upsampler
    level.convs.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0]))
    x = torch.arange(1.0, 7.0).reshape(1, 1, 2, 3)  # (1, 1, 2, 3)
    level(x, torch.rand(1, 1, 4, 6), torch.zeros(1, 1, 2, 3, dtype=torch.long))  # skip and indices are ignored
    unpooled = seen[0]  # (1, 1, 4, 6)
    expected = torch.zeros(1, 1, 4, 6)
    for row in range(2):
        for column in range(3):
            expected[0, 0, 2 * row, 2 * column] = x[0, 0, row, column]  # the loop, pixel by pixel
    assert torch.equal(unpooled, expected)


def test_fixed_unpool_ignores_the_encoder_and_shares_the_indices_decoder() -> None:
    control, indices = build("fixed_unpool").train(), build("indices").train()  # batch statistics: outputs vary
    assert [name for name, _ in control.named_parameters()] == [name for name, _ in indices.named_parameters()]
    assert all(torch.equal(a, b) for a, b in zip(control.parameters(), indices.parameters()))  # same seed, same weights
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        plain = control(x)
        replaced = _logits_with_replaced_skips(control, x, skip=True, indices=True)
        with_indices = indices(x)
    assert torch.equal(plain, replaced)  # neither the skip map nor the indices reach its decoder
    assert not torch.allclose(plain, with_indices)  # the encoder's indices do change "indices"'s output
    top_left_instead = _logits_with_replaced_skips(indices, x, skip=False, indices=True)
    assert torch.allclose(plain, top_left_instead)  # "indices" fed top-left positions is the control
