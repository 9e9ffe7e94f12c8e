"""The conventions: cnncalc's four and each peer tool's preset, with its quirks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnncalc.conventions.engine import NOTHING, Convention, everywhere, rows, terms, weighted
from cnncalc.conventions.names import DECONV_COUNTS
from cnncalc.conventions.site import DeconvCount
from cnncalc.errors import CnnCalcError

if TYPE_CHECKING:
    pass


MACS = terms("macs")
ALL_MACS = everywhere(MACS)
EXACT_ADDS = terms("adds", "bias_adds", "eltwise_adds")
WEIGHTS_AND_BIAS = terms("macs", "bias_adds")
ONE_FLOP_PER_TERM = weighted(macs=2, outputs=-1, bias_adds=1)
"""n mults and n − 1 adds per output of fan-in n, plus its bias: torchscan's conv and fc."""
WEIGHTED = "conv deconv fc linear"
"""The kinds PyTorch has modules for that every tool counts (nn.ConvNd, nn.ConvTransposeNd,
nn.Linear, also applied at every position); cnncalc's rbf and subsample are custom modules
no tool knows."""
NORMS = "layernorm groupnorm instancenorm"
NORM_5_OR_4 = weighted(inputs=4, scaled_inputs=1)
"""fvcore's and calflops' layer, group and instance norm: 5 per element with a weight γ,
4 without (an estimate, in their words)."""
POOLS = "pool adaptive"
UNSEEN_FUNCTIONS = {"F.*": NOTHING}
"""A tool that hooks modules (thop, torchinfo, torchscan) does not see a layer its network
applies as a function (``call: function``): torchvision's F.relu, F.adaptive_avg_pool2d,
x.mean([2, 3])."""
UNKNOWN_SUBCLASSES = {"subclass.*": NOTHING}
"""thop and ptflops look a module's class up exactly in their tables (``type(m) in ...``), so
a subclass of nn.Conv3d (torchvision's video ResNets' Conv3DSimple and Conv3DNoTemporal,
``call: subclass``) counts nothing; the others see its isinstance, its class name or its
operations."""
MEAN_UNSEEN = {"F.gap": NOTHING}
"""A global average pool applied as a function is torchvision's ``x.mean([2, 3])``
(ShuffleNet v2, MNASNet): an aten::mean, which fvcore has no handle for and which neither
ptflops nor calflops patches, unlike F.adaptive_avg_pool2d."""

CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "macs",
            "multiply-accumulates of the weighted layers (conv, deconv, fc, rbf, subsample), "
            "one per weight use; bias, BatchNorm, pooling, activations and residual adds "
            "not counted; mults = adds = MACs, FLOPs = 2·MACs",
            "torchvision model docs' GFLOPS column; PyTorch FlopCounterMode ÷ 2",
            "the reference: one multiply-accumulate per weight use",
            macs=ALL_MACS,
        ),
        Convention(
            "exact",
            "every multiplication and addition a plain implementation performs: an output "
            "of fan-in n costs n mults and n − 1 adds, +1 add for a bias; BatchNorm, "
            "pooling sums, residual adds included; FLOPs = mults + adds",
            "d2l 7.4 exercise (multiplications and additions of a conv layer)",
            "counts mults and adds separately (n − 1 adds per fan-in n), plus biases, "
            "BatchNorm, pooling sums and residual adds",
            macs=ALL_MACS,
            mults=everywhere(terms("mults")),
            adds=everywhere(EXACT_ADDS),
            flops=everywhere(terms("mults", "adds", "bias_adds", "eltwise_adds")),
            reports="flops",
            label="mults + adds",
        ),
        Convention(
            "nndl",
            "NNDL's complexities of the weighted layers, biases left out: time = "
            "M²·K²·C_in·C_out for a conv, one per weight use (= MACs; shown in the FLOPs "
            "column, and as mults, adds and MACs); space = weights + output feature maps",
            "NNDL (Qiu Xipeng), ch. 5, exercise 5-4",
            "its time is the MACs (one per weight use, shown as FLOPs, not 2·MACs); adds a "
            "space figure, weights + output maps",
            macs=ALL_MACS,
            flops=ALL_MACS,
            space=everywhere(terms("weights", "maps")),
            label="time (= MACs)",
            flops_label="time",
        ),
        Convention(
            "lenet",
            "the connections of LeCun et al.: each output's weighted inputs plus its bias, "
            "one multiply-accumulate each (the bias multiplies a constant 1); layers "
            "without weights have none; mults = adds = MACs = connections, FLOPs = 2·MACs",
            "LeCun, Bottou, Bengio, Haffner 1998, section II.B (C1: 122,304 connections)",
            "counts each output's bias as one more connection, and a sub-sampling unit's "
            "whole window",
            macs=everywhere(terms("connections")),
            label="connections",
        ),
        Convention(
            "torch",
            "FLOPs = 2 per multiply-accumulate of nn.Conv*, nn.ConvTranspose* (on its input) "
            "and nn.Linear (aten.convolution, aten.mm/addmm); bias, BatchNorm, pooling, "
            "activations and adds not counted; cnncalc's custom rbf and subsample not counted; "
            "a layer applied as a function counted as its module (it sees aten ops, not "
            "modules)",
            "PyTorch 2.14.1 torch.utils.flop_counter.FlopCounterMode, get_total_flops()",
            "2 FLOPs per MAC of conv, deconv and fc; rbf and subsample are not PyTorch ops "
            "it counts",
            macs=rows(WEIGHTED, MACS),
            reports="flops",
            label="FLOPs",
        ),
        Convention(
            "fvcore",
            "one 'flop' per multiply-accumulate of conv, deconv (on its input) and linear, "
            "bias not counted; BatchNorm (inference) 2 per element; 2-D adaptive average "
            "pooling 1 per input element; layer, group and instance norm 5 per element with a "
            "weight γ, 4 without; 2-D upsampling 1 (nearest) or 4 (bilinear) per output (1-D "
            "and 3-D not counted); activations, max pooling, other average pooling and adds "
            "not counted; a layer applied as a function is traced as its module is, except "
            "a global average pool applied as x.mean, not counted (aten::mean has no handle)",
            "fvcore 0.1.5.post20221221 FlopCountAnalysis(...).total() (JIT trace; "
            "fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS)",
            "adds 2 per BatchNorm element and 1 per input element of a 2-D adaptive average "
            "pool (its 'flops' are MACs)",
            macs={
                **rows(WEIGHTED, MACS),
                "batchnorm": terms("inputs", times=2),
                "adaptive.avg.2d": terms("inputs"),
                **rows(NORMS, NORM_5_OR_4),
                "upsample.nearest.2d": terms("outputs"),
                "upsample.bilinear.2d": terms("outputs", times=4),
                **MEAN_UNSEEN,
            },
            label="flops (one per multiply-add)",
        ),
        Convention(
            "ptflops",
            "conv, deconv (on its input) and linear MACs plus one per bias add; BatchNorm 2 per "
            "element; ReLU 2 per element and every pooling 2 per input element, because its "
            "module hook and its patched torch.nn.functional both fire (a double count); "
            "ReLU6 1 (nn.ReLU6 calls hardtanh, which is not patched); softmax 1 and LRN "
            "3 per element plus its padded channel window; GELU, ELU and PReLU 2 per element "
            "(hook and function), SiLU and LeakyReLU 1 (one of the two); LayerNorm 1 per "
            "element (LayerNorm2d over the channels, a subclass, not counted), GroupNorm and "
            "InstanceNorm 1, 2 with affine; upsampling 2 per output (hook and F.interpolate); "
            "sigmoid, tanh, hardswish, mish, dropout and adds not counted; a layer applied as "
            "a function counts once, by its patched function (F.relu 1 per element, "
            "F.max/avg_pool and F.adaptive_*_pool 1 per input element), x.mean and the "
            "other functions not at all; a subclass of a conv module (call: subclass) not "
            "counted (its class is looked up exactly)",
            "ptflops 0.7.5 get_model_complexity_info(..., backend='pytorch') defaults "
            "(ptflops/pytorch_ops.py MODULES_MAPPING and FUNCTIONAL_MAPPING)",
            "adds biases, 2 per BatchNorm element, and counts ReLU and pooling twice "
            "(module hook and functional hook both fire)",
            macs={
                **rows(WEIGHTED, WEIGHTS_AND_BIAS),
                "batchnorm": terms("inputs", times=2),
                "relu": terms("inputs", times=2),
                "relu6": terms("inputs"),
                **rows(POOLS, terms("pool_inputs", times=2)),
                "softmax": terms("inputs"),
                "lrn": weighted(inputs=3, lrn_padded=1),
                "subsample": terms("inputs"),
                **rows("gelu elu prelu", terms("inputs", times=2)),
                **rows("silu leaky_relu layernorm layernorm.channels.0d", terms("inputs")),
                "layernorm.channels": NOTHING,
                **rows("groupnorm instancenorm", weighted(inputs=1, scaled_inputs=1)),
                "upsample": terms("outputs", times=2),
                **UNSEEN_FUNCTIONS,
                **UNKNOWN_SUBCLASSES,
                "F.relu": terms("inputs"),
                **rows("F.pool F.adaptive", terms("pool_inputs")),
                **MEAN_UNSEEN,
            },
        ),
        Convention(
            "ptflops-aten",
            "conv, deconv (on its input), fc and Linear MACs plus one per bias add "
            "(aten.convolution, aten.addmm/mm); nothing else. A Linear at every position is "
            "counted with its bias, as in ConvNeXt, where its input is channels-last in memory "
            "(one aten.addmm); on a map in the usual layout aten runs matmul and a separate "
            "add, and the tool leaves the bias out, which this preset does not follow; a layer "
            "applied as a function counted as its module (aten ops, not modules)",
            "ptflops 0.7.5 get_model_complexity_info(..., backend='aten') "
            "(ptflops/aten_ops.py ATEN_OPS_MAPPING)",
            "adds one per bias add of conv, deconv and fc",
            macs=rows(WEIGHTED, WEIGHTS_AND_BIAS),
        ),
        Convention(
            "thop",
            "conv and linear MACs, bias not counted; a transposed conv counted on its output "
            "(c_o·output positions·c_i/g·k: wrong, the work is done per input position); "
            "BatchNorm 4 per element; average pooling 1 per output; adaptive average "
            "pooling (n/o + 1) per output, i.e. inputs + outputs; softmax 3n − 1 per vector; "
            "LayerNorm and InstanceNorm 2 per element, 4 with affine (LayerNorm2d over the "
            "channels and GroupNorm not counted); PReLU 1 per element; upsampling nearest 1, "
            "bilinear 11 per output; ReLU, max pooling, dropout, sigmoid, tanh, the other "
            "activations and adds not counted; nor any layer applied as a function (it hooks "
            "modules only: torchvision's F.adaptive_avg_pool2d in DenseNet and MobileNetV2), "
            "nor a subclass of a conv module (call: subclass: the video ResNets' "
            "Conv3DSimple), its class being looked up exactly",
            "thop 0.1.1.post2209072238 profile() (thop/vision/basic_hooks.py)",
            "adds 4 per BatchNorm element and average pooling; counts a transposed conv on "
            "its output",
            macs={
                **rows(WEIGHTED, MACS),
                "batchnorm": terms("inputs", times=4),
                "pool.avg": terms("outputs"),
                "adaptive.avg": terms("thop_adaptive_avg"),
                "softmax": weighted(exps=1, adds=1, divs=1),
                **rows("layernorm instancenorm", weighted(inputs=2, scaled_inputs=2)),
                "layernorm.channels": NOTHING,
                "layernorm.channels.0d": weighted(inputs=2, scaled_inputs=2),
                "prelu": terms("inputs"),
                "upsample.nearest": terms("outputs"),
                "upsample.bilinear": terms("outputs", times=11),
                **UNSEEN_FUNCTIONS,
                **UNKNOWN_SUBCLASSES,
            },
            label="MACs (ops)",
            deconv="output",
        ),
        Convention(
            "torchinfo",
            "'Mult-Adds': a layer whose class name contains 'Conv' counts (weight + bias "
            "parameters)·output positions, i.e. MACs plus bias adds, a transposed conv on "
            "its output (wrong); every other layer counts its parameters once per sample "
            "(linear: MACs + bias; BatchNorm: 2 per channel, not per element), only those "
            "named weight or bias (a layer scale's γ is not); layers without parameters count "
            "nothing, nor do layers applied as functions (it hooks modules)",
            "torchinfo 1.8.0 summary(...).total_mult_adds (LayerInfo.calculate_macs)",
            "adds biases and 2 per BatchNorm channel; counts a transposed conv on its output",
            macs={
                "*": terms("params"),
                **rows("conv deconv", WEIGHTS_AND_BIAS),
                "layer_scale": NOTHING,
                **UNSEEN_FUNCTIONS,
            },
            label="Mult-Adds",
            deconv="output",
        ),
        Convention(
            "torchscan",
            "module-formula FLOPs: conv and linear 2n − 1 per output of fan-in n plus 1 per "
            "bias; a transposed conv the same on its output (wrong) plus 8 per spatial axis "
            "per call; ReLU 1, ReLU6 2, sigmoid 4, tanh 6 and dropout (p > 0, even in "
            "inference) 1 per element; BatchNorm 4 per element + 2 per channel; pooling "
            "window − 1 per output (+1 per spatial axis for average), the window of an int "
            "kernel_size being its side, not its area (wrong); LeakyReLU 4 and ELU 6 per "
            "element; LayerNorm 6 per element + 2 per normalised row + 1 per element for each "
            "of γ and β; softmax, LRN, the other new activations and norms, and custom "
            "modules unsupported (0, its 'known' total); layers applied as functions not "
            "counted (it hooks modules); MACs: conv and linear MACs, BatchNorm 2 per "
            "element, pooling as in FLOPs",
            "torchscan 0.2.0 crawl_module(...)['totals']['module_flops'] and ['macs'] "
            "(known values; torchscan/modules/flops.py, macs.py)",
            "counts every mult and add (2·MACs − outputs + bias), activations, BatchNorm "
            "and pooling; a transposed conv on its output",
            macs={
                **rows("conv fc linear", MACS),
                "deconv": weighted(macs=1, axes=4),
                "batchnorm": terms("inputs", times=2),
                **rows("pool.max adaptive.max", terms("torchscan_window")),
                **rows("pool.avg adaptive.avg", weighted(torchscan_window=1, axes_outputs=1)),
                **UNSEEN_FUNCTIONS,
            },
            flops={
                **rows("conv fc linear", ONE_FLOP_PER_TERM),
                "deconv": weighted(macs=2, outputs=-1, bias_adds=1, axes=8),
                "relu": terms("inputs"),
                "relu6": terms("inputs", times=2),
                "sigmoid": terms("inputs", times=4),
                "tanh": terms("inputs", times=6),
                "dropout": terms("dropped"),
                "leaky_relu": terms("inputs", times=4),
                "elu": terms("inputs", times=6),
                "layernorm": weighted(inputs=6, norm_groups=2, affine_terms=1),
                "batchnorm": weighted(inputs=4, channels=2),
                **rows("pool.max adaptive.max", terms("torchscan_window")),
                **rows("pool.avg adaptive.avg", weighted(torchscan_window=1, axes_outputs=1)),
                **UNSEEN_FUNCTIONS,
            },
            reports="flops",
            label="FLOPs",
            deconv="output",
        ),
        Convention(
            "calflops",
            "FLOPs: 2 per MAC of conv, deconv (on its input) and linear, plus 1 per conv bias "
            "add (a linear's bias not counted; a transposed conv's bias counted on the output "
            "size of an ordinary conv with its options: wrong); BatchNorm 2 per element; ReLU "
            "1 per element (ReLU6 not counted); every pooling 1 per input element; softmax 1 "
            "and LRN 3 per element plus its padded channel window; SiLU, GELU, LeakyReLU, ELU "
            "and PReLU 1 per element; layer, group and instance norm 5 per element with a "
            "weight γ, 4 without; upsampling the input's elements with a scale factor, the "
            "size alone with a size (a per-axis scale factor makes it raise a TypeError); "
            "a layer applied as a function counts as its module does (both reach the patched "
            "function), but a global average pool applied as x.mean not at all (not patched); "
            "MACs: conv, deconv and linear only",
            "calflops 0.3.2 calculate_flops(...) (calflops/pytorch_ops.py, patched "
            "torch.nn.functional)",
            "2 FLOPs per MAC plus conv biases, BatchNorm, ReLU and 1 per pooled input element",
            macs={**rows("conv fc linear", MACS), "deconv": terms("calflops_deconv_macs")},
            flops={
                **rows("conv", weighted(macs=2, bias_adds=1)),
                **rows("fc linear", terms("macs", times=2)),
                "deconv": weighted(calflops_deconv_macs=2, calflops_deconv_bias=1),
                "batchnorm": terms("inputs", times=2),
                "relu": terms("inputs"),
                **rows(POOLS, terms("pool_inputs")),
                "softmax": terms("inputs"),
                "lrn": weighted(inputs=3, lrn_padded=1),
                "subsample": terms("inputs"),
                **rows("silu gelu leaky_relu elu prelu", terms("inputs")),
                **rows(NORMS, NORM_5_OR_4),
                "upsample": terms("calflops_upsample"),
                **MEAN_UNSEEN,
            },
            reports="flops",
            label="FLOPS",
        ),
    )
}


def get_convention(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise CnnCalcError(
            f"unknown convention '{name}'",
            field="--convention",
            hint=f"choose one of {', '.join(CONVENTIONS)}",
        ) from None


def check_deconv_count(value: str | None) -> DeconvCount | None:
    if value is None:
        return None
    if value == "input":
        return "input"
    if value == "output":
        return "output"
    raise CnnCalcError(
        f"unknown transposed-conv count '{value}'",
        field="--deconv-count",
        hint=f"one of {', '.join(DECONV_COUNTS)}: input (cnncalc's) or output (thop, torchinfo, torchscan)",
    )
