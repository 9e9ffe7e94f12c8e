"""The 2015 U-Net written in PyTorch from the paper (Ronneberger, Fischer, Brox, "U-Net:
Convolutional networks for biomedical image segmentation", MICCAI 2015, section 2 and
Fig. 1), the oracle for ``examples/unet-2015.yaml``. It shares no code with cnncalc: its
crop is worked out from the two tensors it joins, not from a size written down.

Section 2: "The contracting path ... consists of the repeated application of two 3x3
convolutions (unpadded convolutions), each followed by a rectified linear unit (ReLU)
and a 2x2 max pooling operation with stride 2 for downsampling. At each downsampling
step we double the number of feature channels. Every step in the expansive path
consists of an upsampling of the feature map followed by a 2x2 convolution ("up-
convolution") that halves the number of feature channels, a concatenation with the
correspondingly cropped feature map from the contracting path, and two 3x3
convolutions, each followed by a ReLU. ... At the final layer a 1x1 convolution is used
to map each 64-component feature vector to the desired number of classes."
"""

from __future__ import annotations

import torch
from torch import nn


def double_conv(c_in: int, c_out: int) -> nn.Sequential:
    """Two unpadded 3x3 convolutions, each followed by a ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3), nn.ReLU(), nn.Conv2d(c_out, c_out, 3), nn.ReLU()
    )


def centre_crop(skip: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The centre of ``skip`` with the height and width of ``like``."""
    h, w = like.shape[-2:]
    top, left = (skip.shape[-2] - h) // 2, (skip.shape[-1] - w) // 2
    return skip[..., top : top + h, left : left + w]


class UNet2015(nn.Module):
    """Five levels of 64, 128, 256, 512 and 1024 channels; 2x2 up-convolutions
    (transposed, stride 2); the cropped skip concatenated before the up-sampled map."""

    def __init__(self, in_channels: int = 1, classes: int = 2):
        super().__init__()
        self.enc1 = double_conv(in_channels, 64)
        self.enc2 = double_conv(64, 128)
        self.enc3 = double_conv(128, 256)
        self.enc4 = double_conv(256, 512)
        self.bottom = double_conv(512, 1024)
        self.up4 = nn.ConvTranspose2d(1024, 512, 2, stride=2)
        self.dec4 = double_conv(1024, 512)
        self.up3 = nn.ConvTranspose2d(512, 256, 2, stride=2)
        self.dec3 = double_conv(512, 256)
        self.up2 = nn.ConvTranspose2d(256, 128, 2, stride=2)
        self.dec2 = double_conv(256, 128)
        self.up1 = nn.ConvTranspose2d(128, 64, 2, stride=2)
        self.dec1 = double_conv(128, 64)
        self.head = nn.Conv2d(64, classes, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        e4 = self.enc4(self.pool(e3))
        y = self.bottom(self.pool(e4))
        for skip, up, dec in (
            (e4, self.up4, self.dec4),
            (e3, self.up3, self.dec3),
            (e2, self.up2, self.dec2),
            (e1, self.up1, self.dec1),
        ):
            y = up(y)
            y = dec(torch.cat([centre_crop(skip, y), y], dim=1))
        return self.head(y)
