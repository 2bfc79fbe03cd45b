"""SegNet (Badrinarayanan, Kendall & Cipolla, TPAMI 2017): upsampling with max-pooling indices.

The encoder is VGG16's convolutional part with BatchNorm. Each 2x2 max-pool remembers *where* its
maximum came from (``return_indices=True``); the mirrored decoder puts every value back at that
position with ``nn.MaxUnpool2d`` (zeros elsewhere) and convolutions fill in the sparse map.
Compared with U-Net, only the indices cross from encoder to decoder, not whole feature maps.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from segedu.models.blocks import ConvBNReLU, crop_to, pad_to_multiple, vgg16_stages
from segedu.models.contract import check_input, check_model_arguments, parameter_dtype

__all__ = ["DecoderStage", "EncoderStage", "SegNet"]


class EncoderStage(nn.Module):
    """``num_convs`` x (conv3x3 -> BN -> ReLU), then maxpool 2x2 that also returns argmax indices.

    Shape:
        (B, in_channels, H, W) -> ((B, out_channels, H/2, W/2), indices of the same shape)
    """

    def __init__(self, in_channels: int, out_channels: int, num_convs: int) -> None:
        super().__init__()
        self.convs = nn.Sequential(OrderedDict(
            (f"conv{i + 1}", ConvBNReLU(out_channels if i else in_channels, out_channels)) for i in range(num_convs)
        ))
        self.pool = nn.MaxPool2d(2, return_indices=True)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = self.convs(x)  # (B, C_out, H, W)
        return self.pool(x)  # (B, C_out, H/2, W/2) twice: values and flat argmax positions in H x W


class DecoderStage(nn.Module):
    """Max-unpool 2x2 with the encoder's indices, then (conv3x3 -> BN -> ReLU) x ``num_convs``.

    The convs keep ``in_channels`` except the last, which maps to ``out_channels`` (the mirror of
    the encoder stage, whose first conv changes the width). As in the authors' full SegNet (Caffe), every
    decoder conv is followed by BN and a ReLU; only the paper's smaller SegNet-Basic has no decoder ReLU.

    Shape:
        (B, in_channels, H, W) + indices -> (B, out_channels, 2H, 2W)
    """

    def __init__(self, in_channels: int, out_channels: int, num_convs: int) -> None:
        super().__init__()
        self.unpool = nn.MaxUnpool2d(2)
        self.convs = nn.Sequential(OrderedDict(
            (f"conv{i + 1}", ConvBNReLU(in_channels, out_channels if i == num_convs - 1 else in_channels))
            for i in range(num_convs)
        ))

    def forward(self, x: Tensor, indices: Tensor) -> Tensor:
        x = self.unpool(x, indices)  # (B, C_in, 2H, 2W), sparse: one nonzero per 2x2 window at most
        return self.convs(x)  # (B, C_out, 2H, 2W)


class SegNet(nn.Module):
    """Encoder-decoder with pooling indices: ``depth`` VGG16 stages down, their mirror up.

    Stage widths are ``base_channels x (1, 2, 4, 8, 8)`` (VGG16: 64 ... 512) with (2, 2, 3, 3, 3)
    convs; decoder stage i mirrors encoder stage i and ends at encoder stage i-1's width. Decoder
    stage 1 keeps one conv; a 3x3 conv ``classifier`` maps to class scores (no BN, no ReLU).
    Inputs are reflect-padded to a multiple of ``2**depth`` and the logits cropped back.

    Args:
        in_channels: 1 or 3 input channels.
        num_classes: number of classes K.
        base_channels: width of stage 1 (64 in the paper).
        depth: number of pooling stages, 1 to 5 (5 in the paper).

    Shape:
        (B, in_channels, H, W) -> (B, num_classes, H, W), H, W >= 2**depth.
    """

    def __init__(self, in_channels: int, num_classes: int, *, base_channels: int = 16, depth: int = 4) -> None:
        super().__init__()
        check_model_arguments("SegNet", in_channels=in_channels, num_classes=num_classes, base_channels=base_channels,
                              depth=depth)
        self.in_channels, self.num_classes, self.depth = in_channels, num_classes, depth
        stages = vgg16_stages(base_channels, depth)
        widths = [in_channels] + [width for width, _ in stages]
        self.encoder = nn.ModuleDict(
            (f"stage{i + 1}", EncoderStage(widths[i], widths[i + 1], convs)) for i, (_, convs) in enumerate(stages)
        )
        # Mirror: decoder stage i goes from encoder i's width back to encoder i-1's (stage 1 stays).
        decoder_widths = [widths[1]] + widths[1:-1]
        decoder_convs = [1] + [convs for _, convs in stages[1:]]
        self.decoder = nn.ModuleDict(
            (f"stage{i + 1}", DecoderStage(widths[i + 1], decoder_widths[i], decoder_convs[i]))
            for i in reversed(range(depth))
        )
        self.classifier = nn.Conv2d(widths[1], num_classes, kernel_size=3, padding=1)

    @property
    def min_size(self) -> int:
        """Smallest accepted H and W: ``depth`` poolings must leave at least one pixel."""
        return 2**self.depth

    @classmethod
    def paper(cls, num_classes: int = 11) -> SegNet:
        """The paper's SegNet: VGG16 encoder (13 convs, BN), mirrored decoder, RGB, 11 CamVid classes.

        29,441,419 parameters for 11 classes, within 0.2% of the paper's 29.5M. The original Caffe
        model also keeps a bias in every conv followed by BN (+7,936, redundant with BN's shift).
        """
        return cls(3, num_classes, base_channels=64, depth=5)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, num_classes={self.num_classes}, depth={self.depth}"

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, in_channels=self.in_channels, min_size=self.min_size, model_name="SegNet",
                    size_rule=f"it halves the resolution {self.depth} times", weight_dtype=parameter_dtype(self))
        x, size = pad_to_multiple(x, 2**self.depth)  # (B, C_in, H, W), H and W now multiples of 2**depth
        switches: dict[str, Tensor] = {}  # "stage{i}" -> where each 2x2 max of encoder stage i came from
        for name, stage in self.encoder.items():  # stage1 ... stage{depth}
            x, switches[name] = stage(x)  # (B, c_i, H/2**i, W/2**i) values; indices of the same shape
        for name, stage in self.decoder.items():  # stage{depth} ... stage1, the mirror
            x = stage(x, switches[name])  # (B, c_(i-1), H/2**(i-1), W/2**(i-1)): unpooled to stage i's maxima
        x = self.classifier(x)  # (B, K, H, W)
        return crop_to(x, size)  # (B, K, H, W) of the input before padding
