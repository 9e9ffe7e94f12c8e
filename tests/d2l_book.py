"""d2l's CNNs written from the book's PyTorch code: the oracle for the zoo's d2l networks.

"Dive into Deep Learning" (Zhang, Lipton, Li, Smola), PyTorch edition: LeNet (7.6), and
chapter 8 "Modern Convolutional Neural Networks": AlexNet (8.1), VGG (8.2), NiN (8.3),
GoogLeNet (8.4), LeNet with batch normalization (8.5, the concise BNLeNet), ResNet-18
(8.6), DenseNet (8.7). Each builder returns what the book's ``d2l.Classifier`` holds:
a module whose ``net`` is the book's ``self.net``, so state_dict keys read
``net.0.weight`` as in the book. The book's Lazy layers get their shapes from one
forward pass (``book_model``). Needs torch; nothing here comes from cnncalc.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Classifier(nn.Module):
    """The part of d2l.Classifier that holds the network: ``forward(X) = self.net(X)``."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, X):
        return self.net(X)


def lenet(num_classes=10):
    """7.6, class LeNet."""
    return Classifier(
        nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5, padding=2),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.LazyLinear(120),
            nn.Sigmoid(),
            nn.LazyLinear(84),
            nn.Sigmoid(),
            nn.LazyLinear(num_classes),
        )
    )


def alexnet(num_classes=10):
    """8.1, class AlexNet."""
    return Classifier(
        nn.Sequential(
            nn.LazyConv2d(96, kernel_size=11, stride=4, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.LazyConv2d(256, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.LazyConv2d(384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.LazyConv2d(384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.LazyConv2d(256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Flatten(),
            nn.LazyLinear(4096),
            nn.ReLU(),
            nn.Dropout(p=0.5),
            nn.LazyLinear(4096),
            nn.ReLU(),
            nn.Dropout(p=0.5),
            nn.LazyLinear(num_classes),
        )
    )


def vgg_block(num_convs, out_channels):
    """8.2, vgg_block."""
    layers = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


VGG11_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
"""8.2: ``VGG(arch=((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)))``, VGG-11."""


def vgg(arch=VGG11_ARCH, num_classes=10):
    """8.2, class VGG."""
    conv_blks = [vgg_block(num_convs, out_channels) for num_convs, out_channels in arch]
    return Classifier(
        nn.Sequential(
            *conv_blks,
            nn.Flatten(),
            nn.LazyLinear(4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.LazyLinear(4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.LazyLinear(num_classes),
        )
    )


def nin_block(out_channels, kernel_size, strides, padding):
    """8.3, nin_block."""
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, strides, padding),
        nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1),
        nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1),
        nn.ReLU(),
    )


def nin(num_classes=10):
    """8.3, class NiN."""
    return Classifier(
        nn.Sequential(
            nin_block(96, kernel_size=11, strides=4, padding=0),
            nn.MaxPool2d(3, stride=2),
            nin_block(256, kernel_size=5, strides=1, padding=2),
            nn.MaxPool2d(3, stride=2),
            nin_block(384, kernel_size=3, strides=1, padding=1),
            nn.MaxPool2d(3, stride=2),
            nn.Dropout(0.5),
            nin_block(num_classes, kernel_size=3, strides=1, padding=1),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
        )
    )


class Inception(nn.Module):
    """8.4: c1--c4 are the number of output channels for each branch."""

    def __init__(self, c1, c2, c3, c4):
        super().__init__()
        self.b1_1 = nn.LazyConv2d(c1, kernel_size=1)
        self.b2_1 = nn.LazyConv2d(c2[0], kernel_size=1)
        self.b2_2 = nn.LazyConv2d(c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.LazyConv2d(c3[0], kernel_size=1)
        self.b3_2 = nn.LazyConv2d(c3[1], kernel_size=5, padding=2)
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.LazyConv2d(c4, kernel_size=1)

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)


def googlenet(num_classes=10):
    """8.4, class GoogleNet: b1 .. b5 and a LazyLinear."""
    b1 = nn.Sequential(
        nn.LazyConv2d(64, kernel_size=7, stride=2, padding=3),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b2 = nn.Sequential(
        nn.LazyConv2d(64, kernel_size=1),
        nn.ReLU(),
        nn.LazyConv2d(192, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b3 = nn.Sequential(
        Inception(64, (96, 128), (16, 32), 32),
        Inception(128, (128, 192), (32, 96), 64),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b4 = nn.Sequential(
        Inception(192, (96, 208), (16, 48), 64),
        Inception(160, (112, 224), (24, 64), 64),
        Inception(128, (128, 256), (24, 64), 64),
        Inception(112, (144, 288), (32, 64), 64),
        Inception(256, (160, 320), (32, 128), 128),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b5 = nn.Sequential(
        Inception(256, (160, 320), (32, 128), 128),
        Inception(384, (192, 384), (48, 128), 128),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )
    return Classifier(nn.Sequential(b1, b2, b3, b4, b5, nn.LazyLinear(num_classes)))


def bn_lenet(num_classes=10):
    """8.5, class BNLeNet (the concise implementation)."""
    return Classifier(
        nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5),
            nn.LazyBatchNorm2d(),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5),
            nn.LazyBatchNorm2d(),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.LazyLinear(120),
            nn.LazyBatchNorm1d(),
            nn.Sigmoid(),
            nn.LazyLinear(84),
            nn.LazyBatchNorm1d(),
            nn.Sigmoid(),
            nn.LazyLinear(num_classes),
        )
    )


class Residual(nn.Module):
    """8.6: the Residual block of ResNet models."""

    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def b1():
    """8.6 and 8.7 (ResNet's and DenseNet's b1): 7x7 conv, stride 2, BN, ReLU, 3x3 max pool."""
    return nn.Sequential(
        nn.LazyConv2d(64, kernel_size=7, stride=2, padding=3),
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )


def resnet(arch, num_classes=10):
    """8.6, class ResNet: b1, then block(*b, first_block=(i == 0)) as b2, b3, ..., then last."""

    def block(num_residuals, num_channels, first_block=False):
        blk = []
        for i in range(num_residuals):
            if i == 0 and not first_block:
                blk.append(Residual(num_channels, use_1x1conv=True, strides=2))
            else:
                blk.append(Residual(num_channels))
        return nn.Sequential(*blk)

    net = nn.Sequential(b1())
    for i, b in enumerate(arch):
        net.add_module(f"b{i + 2}", block(*b, first_block=(i == 0)))
    net.add_module(
        "last",
        nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(num_classes)),
    )
    return Classifier(net)


def resnet18(num_classes=10):
    """8.6, class ResNet18."""
    return resnet(((2, 64), (2, 128), (2, 256), (2, 512)), num_classes)


def conv_block(num_channels):
    """8.7, conv_block: BN, ReLU, 3x3 conv."""
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(), nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
    )


class DenseBlock(nn.Module):
    """8.7: each conv_block's output concatenated after its input."""

    def __init__(self, num_convs, num_channels):
        super().__init__()
        self.net = nn.Sequential(*[conv_block(num_channels) for _ in range(num_convs)])

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(num_channels):
    """8.7, transition_block: BN, ReLU, 1x1 conv, 2x2 average pool."""
    return nn.Sequential(
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2),
    )


def densenet(num_channels=64, growth_rate=32, arch=(4, 4, 4, 4), num_classes=10):
    """8.7, class DenseNet."""
    net = nn.Sequential(b1())
    for i, num_convs in enumerate(arch):
        net.add_module(f"dense_blk{i + 1}", DenseBlock(num_convs, growth_rate))
        num_channels += num_convs * growth_rate
        if i != len(arch) - 1:
            num_channels //= 2
            net.add_module(f"tran_blk{i + 1}", transition_block(num_channels))
    net.add_module(
        "last",
        nn.Sequential(
            nn.LazyBatchNorm2d(),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
            nn.LazyLinear(num_classes),
        ),
    )
    return Classifier(net)


BOOK = {
    "lenet": (lenet, (1, 28, 28)),
    "d2l-alexnet": (alexnet, (1, 224, 224)),
    "d2l-vgg11": (vgg, (1, 224, 224)),
    "nin": (nin, (1, 224, 224)),
    "d2l-googlenet": (googlenet, (1, 96, 96)),
    "d2l-lenet-bn": (bn_lenet, (1, 28, 28)),
    "d2l-resnet18": (resnet18, (1, 96, 96)),
    "d2l-densenet": (densenet, (1, 96, 96)),
}
"""Zoo name -> (the book's model, the input the book trains it on: Fashion-MNIST at 28x28,
resized to 224x224 for AlexNet, VGG and NiN and to 96x96 for GoogLeNet, ResNet, DenseNet)."""


def book_model(name: str, device: str = "cpu") -> Classifier:
    """The book's model for a zoo name, its Lazy layers shaped by one pass over zeros, in
    eval mode (BatchNorm1d refuses a training batch of one)."""
    build, shape = BOOK[name]
    with torch.device(device):
        model = build().eval()
        with torch.no_grad():
            model(torch.zeros((1, *shape)))
    return model
