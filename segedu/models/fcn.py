"""FCN: fully convolutional networks (Long, Shelhamer & Darrell, CVPR 2015).

Three ideas, in the paper's order:

1. *Convolutionalize* a classifier: a fully connected layer on a ``C x h x w`` feature map is a
   ``h x w`` convolution, and the next ones are 1x1 convolutions. The network then accepts larger
   images and returns a coarse map of class scores (:func:`convolutionalize`, re-exported here
   from :mod:`segedu.models.convolutionalized`; FCN's fc6/fc7 below are built this way).
2. *Upsample in-network*: a transposed convolution initialised to bilinear interpolation
   (:class:`BilinearUpsample`, from :mod:`segedu.models.bilinear`) brings the 1/32 score map
   back to full resolution (FCN-32s).
3. *Skip*: score maps from pool4 (1/16) and pool3 (1/8) are added to the upsampled coarse scores
   to recover detail (FCN-16s, FCN-8s).
"""

from __future__ import annotations

from torch import Tensor, nn

from segedu.models.bilinear import BilinearUpsample
from segedu.models.blocks import ConvBNReLU, VGGStage, crop_to, pad_to_multiple, vgg16_stages
from segedu.models.contract import check_input, check_model_arguments, parameter_dtype
from segedu.models.convolutionalized import convolutionalize

__all__ = ["FCN", "BilinearUpsample", "FullyConnectedConv", "convolutionalize"]


class FullyConnectedConv(nn.Sequential):
    """A fully connected layer written as a convolution: conv kxk -> [BN] -> ReLU -> [Dropout]."""

    def __init__(
        self, in_channels: int, out_channels: int, *, kernel_size: int, batch_norm: bool, dropout: float
    ) -> None:
        super().__init__()
        self.conv = ConvBNReLU(in_channels, out_channels, kernel_size=kernel_size, batch_norm=batch_norm)
        if dropout > 0:
            self.dropout = nn.Dropout(dropout)


class FCN(nn.Module):
    """VGG-style FCN-32s / 16s / 8s.

    Encoder: five VGG stages (2, 2, 3, 3, 3 convs), widths ``base_channels x (1, 2, 4, 8, 8)``;
    pool3, pool4, pool5 are at 1/8, 1/16, 1/32 of the input. fc6 and fc7 are the classifier's
    fully connected layers as convolutions: fc6 is ``fc_kernel_size x fc_kernel_size`` (7 in the
    paper, where pool5 of a 224 image is 7x7; 3 by default here) with "same" padding, fc7 is 1x1.
    score_fr (1x1) gives K class scores at 1/32; the skip score layers (1x1 on pool4 and pool3)
    start at zero, as in the paper, so training switches the finer skips on gradually.

    Inputs are reflect-padded to a multiple of 32 and the logits cropped back (the paper instead
    pads conv1 by 100 pixels and crops; we keep fc6 "same" so pool5 keeps its size).

    Args:
        in_channels: 1 or 3 input channels.
        num_classes: number of classes K.
        variant: "32s", "16s" or "8s": the stride of the finest layer the prediction uses.
        base_channels: width of stage 1 (64 in VGG16).
        fc_channels: width of fc6 and fc7 (4096 in the paper).
        fc_kernel_size: kernel of fc6.
        batch_norm: BatchNorm after every conv (the paper's VGG16 has none).
        dropout: dropout after fc6 and fc7 (0.5 in the paper).
        learnable_upsampling: train the bilinear-initialised upsamplers (False freezes them all;
            the paper learns the 2x ones and freezes the final one).

    Shape:
        (B, in_channels, H, W) -> (B, num_classes, H, W), H, W >= 32.
    """

    min_size = 32

    def __init__(
        self, in_channels: int, num_classes: int, *, variant: str = "8s", base_channels: int = 16,
        fc_channels: int = 256, fc_kernel_size: int = 3, batch_norm: bool = True, dropout: float = 0.0,
        learnable_upsampling: bool = True,
    ) -> None:
        super().__init__()
        if variant not in ("32s", "16s", "8s"):
            raise ValueError(f"variant must be '32s', '16s' or '8s'; got {variant!r}")
        check_model_arguments(f"FCN-{variant}", in_channels=in_channels, num_classes=num_classes,
                              base_channels=base_channels, fc_channels=fc_channels, fc_kernel_size=fc_kernel_size)
        self.in_channels, self.num_classes, self.variant = in_channels, num_classes, variant
        stages = vgg16_stages(base_channels)  # [(c, 2), (2c, 2), (4c, 3), (8c, 3), (8c, 3)], c = base_channels
        (width1, convs1), (width2, convs2), (width3, convs3), (width4, convs4), (width5, convs5) = stages
        self.stage1 = VGGStage(in_channels, width1, convs1, batch_norm=batch_norm)
        self.stage2 = VGGStage(width1, width2, convs2, batch_norm=batch_norm)
        self.stage3 = VGGStage(width2, width3, convs3, batch_norm=batch_norm)
        self.stage4 = VGGStage(width3, width4, convs4, batch_norm=batch_norm)
        self.stage5 = VGGStage(width4, width5, convs5, batch_norm=batch_norm)
        self.fc6 = FullyConnectedConv(width5, fc_channels, kernel_size=fc_kernel_size, batch_norm=batch_norm,
                                      dropout=dropout)
        self.fc7 = FullyConnectedConv(fc_channels, fc_channels, kernel_size=1, batch_norm=batch_norm, dropout=dropout)
        self.score_fr = nn.Conv2d(fc_channels, num_classes, kernel_size=1)
        learnable = learnable_upsampling
        if variant == "32s":
            self.upscore32 = BilinearUpsample(num_classes, 32, learnable=learnable)
        else:
            self.upscore2 = BilinearUpsample(num_classes, 2, learnable=learnable)
            self.score_pool4 = _zero_init(nn.Conv2d(width4, num_classes, kernel_size=1))
        if variant == "16s":
            self.upscore16 = BilinearUpsample(num_classes, 16, learnable=learnable)
        if variant == "8s":
            self.upscore_pool4 = BilinearUpsample(num_classes, 2, learnable=learnable)
            self.score_pool3 = _zero_init(nn.Conv2d(width3, num_classes, kernel_size=1))
            self.upscore8 = BilinearUpsample(num_classes, 8, learnable=learnable)

    @classmethod
    def paper(cls, variant: str = "8s") -> FCN:
        """The paper's VGG16 FCN for PASCAL VOC: 3 -> 21 classes, 64..512 channels, fc6 7x7 4096, no BN."""
        return cls(3, 21, variant=variant, base_channels=64, fc_channels=4096, fc_kernel_size=7,
                   batch_norm=False, dropout=0.5)

    def extra_repr(self) -> str:
        skips = {"32s": "pool5 only", "16s": "pool5 + pool4", "8s": "pool5 + pool4 + pool3"}[self.variant]
        return f"variant={self.variant!r} ({skips}), in_channels={self.in_channels}, num_classes={self.num_classes}"

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, in_channels=self.in_channels, min_size=self.min_size, model_name=f"FCN-{self.variant}",
                    size_rule="it halves the resolution 5 times", weight_dtype=parameter_dtype(self))
        x, size = pad_to_multiple(x, 32)  # (B, C_in, H', W'), H' and W' multiples of 32
        pool1 = self.stage1(x)  # (B, c, H'/2, W'/2)
        pool2 = self.stage2(pool1)  # (B, 2c, H'/4, W'/4)
        pool3 = self.stage3(pool2)  # (B, 4c, H'/8, W'/8)
        pool4 = self.stage4(pool3)  # (B, 8c, H'/16, W'/16)
        pool5 = self.stage5(pool4)  # (B, 8c, H'/32, W'/32)
        fc6 = self.fc6(pool5)  # (B, F, H'/32, W'/32)
        fc7 = self.fc7(fc6)  # (B, F, H'/32, W'/32)
        score = self.score_fr(fc7)  # (B, K, H'/32, W'/32)
        if self.variant == "32s":
            score = self.upscore32(score)  # (B, K, H', W')
            return crop_to(score, size)  # (B, K, H, W)
        score = self.upscore2(score)  # (B, K, H'/16, W'/16)
        score = score + self.score_pool4(pool4)  # (B, K, H'/16, W'/16)
        if self.variant == "16s":
            score = self.upscore16(score)  # (B, K, H', W')
            return crop_to(score, size)  # (B, K, H, W)
        score = self.upscore_pool4(score)  # (B, K, H'/8, W'/8)
        score = score + self.score_pool3(pool3)  # (B, K, H'/8, W'/8)
        score = self.upscore8(score)  # (B, K, H', W')
        return crop_to(score, size)  # (B, K, H, W)


def _zero_init(conv: nn.Conv2d) -> nn.Conv2d:
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv
