"""Worked answers to the exercises of d2l's modern-CNN chapter (8.x), and the papers'
tables they point to (VGG, ResNet, DenseNet), computed with cnncalc.

Each answer reads its networks from the zoo (d2l's versions where the book asks about
them, and studies written for the question), and its numbers from cnncalc's analysis:
parameters, MACs, shapes, and the training memory of ``cnncalc memory``. Only the
question, the source and the wording are text. Nothing here prints.
"""

from __future__ import annotations

from fractions import Fraction

from cnncalc.analysis.compare import compare_files
from cnncalc.analysis.explain import LayerWorking
from cnncalc.analysis.memory import MemoryAnalysis
from cnncalc.analysis.pipeline import analyze, explain, load, memory
from cnncalc.analysis.stats import Analysis, LayerStats
from cnncalc.answers.worked import Entry, Note, Step, register
from cnncalc.kinds.formula import Formula

# --------------------------------------------------------------------------- helpers


def times(a: int, b: int) -> str:
    """a ÷ b as an exact fraction and its decimal, '× 7.55 (…/…)'; '× 4' when whole."""
    r = Fraction(a, b)
    return f"× {r}" if r.denominator == 1 else f"× {float(r):.2f} ({r})"


def share(part: int, whole: int) -> str:
    """part of whole as a percentage with one decimal."""
    return f"{100 * part / whole:.1f}%"


def millions(n: int) -> str:
    return f"{n / 1e6:.1f} M"


def giga(n: int) -> str:
    return f"{n / 1e9:.2f} × 10⁹"


def line(what: str, result, symbolic: str = "", substituted: str = "", note: str = "") -> Formula:
    return Formula(what, symbolic, substituted, str(result), note)


def net(name: str, input: str | None = None) -> Analysis:
    return analyze(load(name), input)


def study(name: str) -> dict[str, Analysis]:
    """Each variant of a study, analysed, by name."""
    return {e.name: e.analysis for e in compare_files([name]).entries}


def fc_params(a: Analysis) -> int:
    return sum(r.params for r in a.layers if r.kind == "fc")


def kind_rows(a: Analysis, kind: str) -> list[LayerStats]:
    return [r for r in a.layers if r.kind == kind]


def size(shape) -> str:
    return "×".join(map(str, shape))


MEMORY_HEADERS = ("", "weights", "gradients", "optimizer", "buffers", "kept activations", "total")


def memory_row(label: str, m: MemoryAnalysis) -> tuple:
    return (label, m.params, m.gradients, m.optimizer_state, m.buffers, m.activations, m.total)


def memory_values(m: MemoryAnalysis) -> dict:
    return {
        "weights": m.params,
        "gradients": m.gradients,
        "optimizer": m.optimizer_state,
        "buffers": m.buffers,
        "activations": m.activations,
        "total": m.total,
    }


def kept_by_layer(m: MemoryAnalysis, top: int) -> list[tuple[str, str, int]]:
    """The layers that keep the most activation bytes: (name, shape, bytes)."""
    rows = sorted(m.layers, key=lambda l: -l.activations)[:top]
    return [(l.name, size(l.out_shape), l.activations) for l in rows]


def output_size(name: str, layer: str) -> LayerWorking:
    """A layer's working for its output's height and width (the H and W lines)."""
    w = explain(load(name), "shape").layer(layer)
    lines = tuple(f for f in w.lines if f.what in ("H", "W"))
    return LayerWorking(w.name, w.kind, w.in_shapes, w.out_shape, lines)


# --------------------------------------------------------------------------- 1. batch and memory


BATCHES = (1, 128, 256)


def _batch_memory():
    spec = load("d2l-alexnet")
    runs = {b: memory(spec, batch=b) for b in BATCHES}
    first, last = runs[BATCHES[0]], runs[BATCHES[-1]]
    per_sample = Fraction(last.activations - first.activations, BATCHES[-1] - BATCHES[0])
    fixed = first.params + first.gradients + first.optimizer_state + first.buffers
    steps = (
        Step(
            "Training memory of d2l's AlexNet, 1×224×224, fp32, plain SGD (bytes)",
            headers=MEMORY_HEADERS,
            rows=tuple(memory_row(f"batch {b}", m) for b, m in runs.items()),
        ),
        Step(
            "The tensors kept for the backward pass, batch 1: the largest (bytes)",
            headers=("layer", "output", "kept"),
            rows=tuple(kept_by_layer(first, 5)),
        ),
    )
    answer = (
        line(
            "weights + gradients + optimizer + buffers",
            fixed,
            note="the same at every batch size",
        ),
        line(
            "kept activations per sample",
            per_sample,
            f"(A_{BATCHES[-1]} − A_{BATCHES[0]})/({BATCHES[-1]} − {BATCHES[0]})",
            f"({last.activations} − {first.activations})/{BATCHES[-1] - BATCHES[0]}",
            f"≈ {float(per_sample) / 2**20:.2f} MiB a sample",
        ),
        line(
            f"what grows: kept activations at batch {BATCHES[-1]}",
            last.activations,
            f"A_{BATCHES[-1]} = {BATCHES[-1]}·A₁",
            f"{BATCHES[-1]}·{first.activations}",
            "nothing else changes with the batch",
        ),
        line(
            f"total, batch {BATCHES[-1]} ÷ batch {BATCHES[0]}",
            times(last.total, first.total),
        ),
    )
    notes = (
        Note(
            line("memory use", "no change with the batch size"),
            (
                line(
                    f"kept activations, batch {BATCHES[1]} → {BATCHES[2]}",
                    f"{runs[BATCHES[1]].activations} → {runs[BATCHES[2]].activations}",
                ),
            ),
            "The kept activations grow linearly with the batch; weights, gradients and "
            "optimizer state do not. A task manager shows what PyTorch's caching allocator "
            "has reserved (it keeps freed blocks for reuse, and the CUDA context itself), not "
            "what the tensors take: read torch.cuda.max_memory_allocated() after a training "
            "step instead.",
        ),
    )
    values = {
        "batches": {b: memory_values(m) for b, m in runs.items()},
        "per sample": per_sample,
        "fixed": fixed,
    }
    return steps, answer, notes, values


# --------------------------------------------------------------------------- 2. VGG vs AlexNet


def _vgg_vs_alexnet():
    vgg, alex = net("d2l-vgg11"), net("d2l-alexnet")
    mv, ma = memory(load("d2l-vgg11")), memory(load("d2l-alexnet"))
    rows = tuple(
        (label, a.total.params, a.total.macs, m.activations)
        for label, a, m in (("VGG-11 (d2l)", vgg, mv), ("AlexNet (d2l)", alex, ma))
    )
    big = [r for r in kind_rows(vgg, "conv") if r.out_shape[1] >= vgg.input[1] // 2]
    big_macs = sum(r.macs for r in big)
    steps = (
        Step(
            "Both 1×224×224, 10 classes, batch 1 (kept activations in bytes, fp32, training)",
            headers=("network", "params", "MACs", "kept activations"),
            rows=rows,
        ),
        Step(
            "VGG-11's convs: each one's MACs and share",
            headers=("layer", "output", "MACs", "share"),
            rows=tuple(
                (r.name, size(r.out_shape), r.macs, share(r.macs, vgg.total.macs))
                for r in kind_rows(vgg, "conv")
            ),
        ),
    )
    answer = (
        line("MACs, VGG-11 ÷ AlexNet", times(vgg.total.macs, alex.total.macs)),
        line("params, VGG-11 ÷ AlexNet", times(vgg.total.params, alex.total.params)),
        line("kept activations, VGG-11 ÷ AlexNet", times(mv.activations, ma.activations)),
        line(
            "VGG-11's convs on 224×224 and 112×112 maps",
            big_macs,
            " + ".join(r.name for r in big),
            " + ".join(str(r.macs) for r in big),
            f"{times(big_macs, alex.total.macs)} all of AlexNet's MACs: AlexNet's stride-4 "
            f"11×11 conv leaves {size(alex.layers[0].out_shape)} at once",
        ),
    )
    values = {
        "vgg": (vgg.total.params, vgg.total.macs, mv.activations),
        "alexnet": (alex.total.params, alex.total.macs, ma.activations),
        "big convs": {r.name: r.macs for r in big},
    }
    return steps, answer, (), values


# --------------------------------------------------------------------------- 3. 224 → 96


def _input_96():
    spec = load("d2l-alexnet")
    before, after = analyze(spec), analyze(spec, "1x96x96")
    changed = tuple(
        (b.name, b.kind, size(b.out_shape), size(a.out_shape))
        for b, a in zip(before.layers, after.layers)
        if b.out_shape != a.out_shape
    )
    fc_b, fc_a = kind_rows(before, "fc")[0], kind_rows(after, "fc")[0]
    steps = (
        Step(
            "d2l's AlexNet at 224×224 and at 96×96: the layers whose output changes",
            headers=("layer", "kind", "at 224", "at 96"),
            rows=changed,
        ),
        Step(
            "The first fc",
            headers=("", "in-features", "params", "MACs"),
            rows=(
                ("at 224", fc_b.in_shape[0], fc_b.params, fc_b.macs),
                ("at 96", fc_a.in_shape[0], fc_a.params, fc_a.macs),
            ),
        ),
    )
    answer = (
        line(
            f"{fc_b.name}'s in-features",
            f"{fc_b.in_shape[0]} → {fc_a.in_shape[0]}",
            note=f"the flattened {size(before.layers[before.layers.index(fc_b) - 1].in_shape)} "
            f"becomes {size(after.layers[after.layers.index(fc_a) - 1].in_shape)}",
        ),
        line(
            "MACs",
            f"{before.total.macs} → {after.total.macs}",
            note=times(after.total.macs, before.total.macs),
        ),
        line("params", f"{before.total.params} → {after.total.params}"),
    )
    notes = (
        Note(
            line("the network", "runs unchanged at 96×96"),
            (line(f"{fc_b.name}: in-features", f"{fc_a.in_shape[0]}, not {fc_b.in_shape[0]}"),),
            "d2l writes the first fc as nn.LazyLinear, which takes its in-features from the "
            "first batch, so the book's code runs; a fixed nn.Linear(6400, 4096) (older "
            "editions, torchvision) fails with a shape mismatch, and must be given the new "
            "in-features. Every conv and pool still fits: the last max pool leaves a map "
            "of at least 1×1.",
        ),
    )
    values = {
        "fc in": (fc_b.in_shape[0], fc_a.in_shape[0]),
        "macs": (before.total.macs, after.total.macs),
        "params": (before.total.params, after.total.params),
        "changed": tuple(r[0] for r in changed),
    }
    return steps, answer, notes, values


# --------------------------------------------------------------------------- 4. VGG's configurations


VGG_TABLE2 = {"A": 133, "B": 133, "C": 134, "D": 138, "E": 144}
"""Simonyan & Zisserman 2015, Table 2: 'Number of parameters (in millions)'."""


def _vgg_configurations():
    variants = study("vgg-configurations")
    rows = tuple(
        (
            name,
            len(kind_rows(a, "conv")) + len(kind_rows(a, "fc")),
            a.total.params,
            round(a.total.params / 1e6),
            VGG_TABLE2[name],
            a.total.macs,
        )
        for name, a in variants.items()
    )
    c, d = variants["C"], variants["D"]
    ones = [r for r in kind_rows(c, "conv") if r.state_dict[0][1][2] == 1]
    steps = (
        Step(
            "VGG's configurations, 3×224×224, 1000 classes (vgg-configurations study)",
            headers=("config", "weight layers", "params", "millions", "Table 2", "MACs"),
            rows=rows,
        ),
        Step(
            "Configuration C: the 1×1 convs that replace D's last 3×3 of blocks 3, 4, 5",
            headers=("layer", "output", "params", "MACs"),
            rows=tuple((r.name, size(r.out_shape), r.params, r.macs) for r in ones),
        ),
    )
    answer = tuple(
        line(
            f"{n}: params",
            a.total.params,
            note=f"{round(a.total.params / 1e6)} M, Table 2: {VGG_TABLE2[n]} M",
        )
        for n, a in variants.items()
    ) + (
        line("D − C: params", d.total.params - c.total.params),
        line(
            "B − A: params",
            variants["B"].total.params - variants["A"].total.params,
            note=f"the fc layers hold {share(fc_params(variants['A']), variants['A'].total.params)}"
            " of A's parameters, and B's two extra 3×3 convs work on 64 and 128 channels",
        ),
        line("C ÷ D: MACs", times(c.total.macs, d.total.macs)),
    )
    values = {n: (a.total.params, a.total.macs) for n, a in variants.items()}
    return steps, answer, (), values


# --------------------------------------------------------------------------- 5. NiN's 1×1 convs


def _nin_one_1x1():
    variants = study("nin-one-1x1")
    two, one = variants["two"], variants["one"]
    blocks = sorted({r.name.split(".")[0] for r in kind_rows(two, "conv")})
    rows = []
    for block in blocks:
        convs = [r for r in kind_rows(two, "conv") if r.name.startswith(block + ".")]
        k, pointwise = convs[0], convs[1:]
        rows.append(
            (
                block,
                k.macs,
                sum(r.macs for r in pointwise),
                share(sum(r.macs for r in pointwise), sum(r.macs for r in convs)),
                k.params,
                sum(r.params for r in pointwise),
            )
        )
    steps = (
        Step(
            "d2l's NiN, 1×224×224, with two and with one 1×1 conv per block",
            headers=("variant", "params", "MACs"),
            rows=tuple((n, a.total.params, a.total.macs) for n, a in variants.items()),
        ),
        Step(
            "Each block of d2l's NiN: the k×k conv against its two 1×1 convs",
            headers=("block", "k×k MACs", "1×1 MACs", "1×1 share", "k×k params", "1×1 params"),
            rows=tuple(rows),
        ),
    )
    answer = (
        line(
            "params saved",
            two.total.params - one.total.params,
            note=times(one.total.params, two.total.params),
        ),
        line(
            "MACs saved",
            two.total.macs - one.total.macs,
            note=times(one.total.macs, two.total.macs),
        ),
        line(
            "the 1×1 convs' share of NiN's MACs",
            share(sum(r[2] for r in rows), two.total.macs),
            note="per output a 1×1 conv costs c_in multiplications against the k×k conv's "
            "c_in·k², but it runs on the same map with as many channels",
        ),
    )
    values = {
        "two": (two.total.params, two.total.macs),
        "one": (one.total.params, one.total.macs),
        "blocks": {r[0]: r[1:3] for r in rows},
    }
    return steps, answer, (), values


# --------------------------------------------------------------------------- 6. parameter sizes


D2L_CLASSICS = ("d2l-alexnet", "d2l-vgg11", "nin", "d2l-googlenet")


def _parameter_sizes():
    nets = {n: net(n) for n in D2L_CLASSICS}
    rows = tuple(
        (
            n,
            size(a.input),
            a.total.params,
            fc_params(a),
            share(fc_params(a), a.total.params),
            len(kind_rows(a, "fc")),
        )
        for n, a in nets.items()
    )
    steps = (
        Step(
            "d2l's versions (Fashion-MNIST, 10 classes), parameters and the part in fc layers",
            headers=("network", "input", "params", "fc params", "fc share", "fc layers"),
            rows=rows,
        ),
    )
    vgg, nin = nets["d2l-vgg11"], nets["nin"]
    first_fc = kind_rows(vgg, "fc")[0]
    answer = tuple(
        line(
            f"{n}: params",
            a.total.params,
            note=f"{share(fc_params(a), a.total.params)} in fc layers",
        )
        for n, a in nets.items()
    ) + (
        line(
            "VGG-11's first fc alone",
            first_fc.params,
            "in·out + out",
            f"{first_fc.in_shape[0]}·{first_fc.out_shape[0]} + {first_fc.out_shape[0]}",
            f"{times(first_fc.params, nin.total.params)} all of NiN",
        ),
    )
    values = {n: (a.total.params, fc_params(a)) for n, a in nets.items()}
    return steps, answer, (), values


# --------------------------------------------------------------------------- 7. bias before BN


def _bias_before_bn():
    variants = study("d2l-lenet-bn-bias")
    with_bias, no_bias = variants["with-bias"], variants["no-bias"]
    dropped = [
        (r.name, r.kind, r.params - s.params)
        for r, s in zip(with_bias.layers, no_bias.layers)
        if r.params != s.params
    ]
    steps = (
        Step(
            "d2l's BNLeNet, 1×28×28: the layers a BatchNorm follows, and the biases they drop",
            headers=("layer", "kind", "bias params"),
            rows=tuple(dropped),
        ),
        Step(
            "BatchNorm subtracts the batch mean per channel: for y = Wx + b, "
            "BN(y) = γ·(Wx + b − mean(Wx) − b)/σ + β = γ·(Wx − mean(Wx))/σ + β, "
            "so b cancels and β is the only shift left"
        ),
    )
    answer = (
        line("params with the biases", with_bias.total.params),
        line(
            "params without them",
            no_bias.total.params,
            " − ".join(["Σ params"] + [f"b({d[0]})" for d in dropped]),
            " − ".join([str(with_bias.total.params)] + [str(d[2]) for d in dropped]),
        ),
        line(
            "the outputs", "the same", note="in training and, with the running mean, in inference"
        ),
    )
    values = {
        "with": with_bias.total.params,
        "without": no_bias.total.params,
        "dropped": {d[0]: d[2] for d in dropped},
    }
    return steps, answer, (), values


# --------------------------------------------------------------------------- 8. γ and β not learnt


def _bn_not_affine():
    a = net("d2l-lenet-bn")
    norms = kind_rows(a, "batchnorm")
    learnt = sum(r.params for r in norms)
    steps = (
        Step(
            "d2l's BNLeNet, 1×28×28: each BatchNorm's state (nn.BatchNorm…(affine=False) "
            "drops the weight γ and the bias β; the running statistics stay)",
            headers=("layer", "channels", "γ and β", "running mean and variance"),
            rows=tuple(
                (
                    r.name,
                    r.in_shape[0],
                    r.params,
                    r.buffers,
                )
                for r in norms
            ),
        ),
    )
    answer = (
        line("params with γ and β learnt", a.total.params),
        line(
            "params with affine=False",
            a.total.params - learnt,
            "Σ params − Σ 2·c",
            " − ".join([str(a.total.params)] + [str(r.params) for r in norms]),
        ),
        line(
            "buffers, either way",
            a.total.buffers,
            note="2·c per layer: running mean and variance; and each layer keeps its int64 "
            "num_batches_tracked counter",
        ),
        line(
            "what the network loses",
            "the learnt scale and shift",
            note="every normalised channel then reaches the next layer with mean 0 and "
            "variance 1 over the batch, whatever scale would have suited the sigmoid after it",
        ),
    )
    values = {
        "params": a.total.params,
        "params without affine": a.total.params - learnt,
        "buffers": a.total.buffers,
        "per layer": {r.name: (r.params, r.buffers) for r in norms},
    }
    return steps, answer, (), values


# --------------------------------------------------------------------------- 9. ResNet's Table 1


RESNETS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
RESNET_TABLE1 = {
    "resnet18": 1.8,
    "resnet34": 3.6,
    "resnet50": 3.8,
    "resnet101": 7.6,
    "resnet152": 11.3,
}
"""He et al. 2016, Table 1, the 'FLOPs' row (× 10⁹; multiply-adds)."""
BOTTLENECK_RESNETS = ("resnet50", "resnet101", "resnet152")


def _resnet_table1():
    nets = {n: net(n) for n in RESNETS}
    placement = study("resnet-stride-placement")
    extra = placement["v1.5"].total.macs - placement["v1"].total.macs
    paper = {n: a.total.macs - (extra if n in BOTTLENECK_RESNETS else 0) for n, a in nets.items()}
    rows = tuple(
        (n, a.total.params, a.total.macs, paper[n], f"{paper[n] / 1e9:.2f}", RESNET_TABLE1[n])
        for n, a in nets.items()
    )
    steps = (
        Step(
            "torchvision's ResNets (examples/resnet*.yaml), 3×224×224, and the paper's count "
            "(stride on the first 1×1 of a downsampling bottleneck)",
            headers=("network", "params", "MACs (torchvision)", "MACs (paper)", "× 10⁹", "Table 1"),
            rows=rows,
        ),
        Step(
            "The three downsampling bottlenecks (layer2.0, layer3.0, layer4.0), stride on the "
            "1×1 (v1) or on the 3×3 (v1.5)",
            headers=("block conv", "v1 MACs", "v1.5 MACs"),
            rows=tuple(
                (r.name, r.macs, s.macs)
                for r, s in zip(
                    kind_rows(placement["v1"], "conv"), kind_rows(placement["v1.5"], "conv")
                )
                if r.macs != s.macs
            ),
        ),
    )
    answer = tuple(
        line(f"{n}: MACs", paper[n], note=f"{giga(paper[n])}; Table 1: {RESNET_TABLE1[n]} × 10⁹")
        for n in RESNETS
    ) + (
        line(
            "torchvision's ResNet-50/101/152 add",
            extra,
            "MACs(v1.5) − MACs(v1)",
            f"{placement['v1.5'].total.macs} − {placement['v1'].total.macs}",
            "v1.5's first 1×1 conv of each downsampling block runs at stride 1 on the full "
            "map; the 3×3 gives the same output size either way",
        ),
    )
    notes = (
        Note(
            line("ResNet-50", f"{giga(nets['resnet50'].total.macs)} MACs"),
            (line("ResNet-50 as the paper builds it", paper["resnet50"]),),
            "That is torchvision's 'ResNet V1.5', which puts the stride on the 3×3 conv of "
            "each downsampling bottleneck (better accuracy, more MACs); the paper's "
            "ResNet-50 strides the first 1×1, which then computes a quarter of the outputs.",
        ),
    )
    values = {
        "params": {n: a.total.params for n, a in nets.items()},
        "torchvision macs": {n: a.total.macs for n, a in nets.items()},
        "paper macs": paper,
        "v1.5 extra": extra,
    }
    return steps, answer, notes, values


# --------------------------------------------------------------------------- 10. pre-activation


def _preactivation():
    variants = study("resnet-preact")
    post, pre = variants["post"], variants["pre"]
    kept = {n: memory(spec).activations for n, spec in load("resnet-preact").variants.items()}

    def order(a: Analysis) -> str:
        return " → ".join(
            r.kind for r in a.layers if r.kind in ("conv", "batchnorm", "relu", "add")
        )

    def bn_inputs(a: Analysis) -> str:
        reads = []
        for i, r in enumerate(a.layers):
            if r.kind == "batchnorm":
                before = a.layers[i - 1] if i else None
                seen = f"{before.name} ({before.kind})" if before else "the block's input"
                reads.append(f"{r.name} normalises {seen}")
        return "; ".join(reads)

    steps = (
        Step(
            "One residual block of two 3×3 convs at 64 channels on 64×56×56, both ways",
            headers=("variant", "order", "params", "MACs", "kept activations"),
            rows=tuple(
                (
                    n,
                    order(a),
                    a.total.params,
                    a.total.macs,
                    kept[n],
                )
                for n, a in variants.items()
            ),
        ),
        Step(
            "Where the BatchNorms sit",
            lines=(line("post", bn_inputs(post)), line("pre", bn_inputs(pre))),
        ),
    )
    answer = (
        line("params, pre − post", pre.total.params - post.total.params),
        line("MACs, pre − post", pre.total.macs - post.total.macs),
        line(
            "kept activations, pre − post (bytes, batch 1)",
            kept["pre"] - kept["post"],
            note="the pre-activation block has no ReLU after the add",
        ),
        line(
            "what changes",
            "the order",
            note="post: BN normalises each conv's output and ReLU follows the add; pre: BN "
            "and ReLU act on the block's input and the conv's output, and the shortcut "
            "adds to an unnormalised, unrectified sum (an identity path from block to block)",
        ),
    )
    values = {n: (a.total.params, a.total.macs, kept[n]) for n, a in variants.items()}
    return steps, answer, (), values


# --------------------------------------------------------------------------- 11. DenseNet's parameters


def _densenet_params():
    pairs = (("d2l-densenet", "d2l-resnet18"), ("densenet121", "resnet50"))
    nets = {n: net(n) for pair in pairs for n in pair}
    rows = tuple(
        (
            n,
            size(a.input),
            a.total.params,
            a.total.macs,
            max(r.out_shape[0] for r in a.layers if len(r.out_shape) == 3),
        )
        for n, a in nets.items()
    )
    dense, res = nets["d2l-densenet"], nets["d2l-resnet18"]
    d_convs = [r for r in kind_rows(dense, "conv") if r.state_dict[0][1][2] == 3]
    r_convs = [r for r in kind_rows(res, "conv") if r.state_dict[0][1][2] == 3]
    steps = (
        Step(
            "Both networks of each pair on the same input",
            headers=("network", "input", "params", "MACs", "widest map (channels)"),
            rows=rows,
        ),
        Step(
            "d2l's DenseNet: each 3×3 conv adds 32 channels, whatever it reads",
            headers=("layer", "in", "out", "params"),
            rows=tuple((r.name, size(r.in_shape), size(r.out_shape), r.params) for r in d_convs),
        ),
        Step(
            "d2l's ResNet-18: each 3×3 conv writes as many channels as it reads (or twice)",
            headers=("layer", "in", "out", "params"),
            rows=tuple((r.name, size(r.in_shape), size(r.out_shape), r.params) for r in r_convs),
        ),
    )
    biggest_d = max(d_convs, key=lambda r: r.params)
    biggest_r = max(r_convs, key=lambda r: r.params)
    answer = (
        line("d2l: ResNet-18 ÷ DenseNet params", times(res.total.params, dense.total.params)),
        line(
            "ResNet-50 ÷ DenseNet-121 params",
            times(nets["resnet50"].total.params, nets["densenet121"].total.params),
        ),
        line(
            "largest 3×3 conv",
            f"{biggest_d.params} vs {biggest_r.params}",
            "9·c_in·k + k  vs  9·c·c + c",
            note=f"DenseNet's {biggest_d.name} reads {biggest_d.in_shape[0]} channels and writes "
            f"{biggest_d.out_shape[0]}; ResNet's {biggest_r.name} reads "
            f"{biggest_r.in_shape[0]} and writes {biggest_r.out_shape[0]}",
        ),
    )
    values = {n: (a.total.params, a.total.macs) for n, a in nets.items()}
    return steps, answer, (), values


# --------------------------------------------------------------------------- 12. DenseNet's memory


D2L_BATCH = 256
"""d2l trains DenseNet and ResNet with batch_size=128 in the PyTorch edition's fit, 256 in
older editions; the issue asks for 256."""


def _densenet_memory():
    runs = {
        (n, side): memory(load(n), f"1x{side}x{side}", D2L_BATCH)
        for n in ("d2l-densenet", "d2l-resnet18")
        for side in (96, 224)
    }
    steps = (
        Step(
            f"Training memory, batch {D2L_BATCH}, fp32, plain SGD (bytes)",
            headers=MEMORY_HEADERS,
            rows=tuple(memory_row(f"{n} at {s}×{s}", m) for (n, s), m in runs.items()),
        ),
        Step(
            "d2l's DenseNet at 96×96: the tensors kept for backward, the largest (bytes)",
            headers=("layer", "output", "kept"),
            rows=tuple(kept_by_layer(runs["d2l-densenet", 96], 6)),
        ),
    )
    d96, d224 = runs["d2l-densenet", 96], runs["d2l-densenet", 224]
    r96, r224 = runs["d2l-resnet18", 96], runs["d2l-resnet18", 224]
    concat = sum(l.activations for l in d96.layers if l.kind == "concat")
    answer = (
        line(
            "DenseNet ÷ ResNet-18, kept activations at 96", times(d96.activations, r96.activations)
        ),
        line(
            "DenseNet ÷ ResNet-18, kept activations at 224",
            times(d224.activations, r224.activations),
        ),
        line("DenseNet, 224 ÷ 96", times(d224.activations, d96.activations)),
        line(
            "DenseNet at 96: kept by the concatenations",
            concat,
            note=f"{share(concat, d96.activations)} of its kept activations: each concat "
            "makes a new, wider map that the next BatchNorm keeps",
        ),
    )
    values = {f"{n} {s}": memory_values(m) for (n, s), m in runs.items()}
    values["concat 96"] = concat
    return steps, answer, (), values


# --------------------------------------------------------------------------- 13. DenseNet's Table 1


def _densenet_table1():
    variants = study("densenet-table1")
    rows = tuple(
        (
            n,
            load("densenet-table1").variants[n].description,
            a.total.params,
            millions(a.total.params),
            a.total.macs,
            giga(a.total.macs),
        )
        for n, a in variants.items()
    )
    steps = (
        Step(
            "DenseNet-BC on ImageNet, 3×224×224, one block file (densenet-table1 study)",
            headers=("network", "configuration", "params", "", "MACs", ""),
            rows=rows,
        ),
    )
    answer = tuple(
        line(f"{n}", f"{a.total.params} params, {a.total.macs} MACs") for n, a in variants.items()
    )
    values = {n: (a.total.params, a.total.macs) for n, a in variants.items()}
    return steps, answer, (), values


# --------------------------------------------------------------------------- 14. im2col


IM2COL = ("d2l-alexnet", "net.3")
"""d2l's AlexNet's second conv: 96×26×26 in, 5×5, padding 2, 256 out."""


def _im2col():
    name, layer = IM2COL
    a = net(name)
    r = next(r for r in a.layers if r.name == layer)
    c_out, c_in, k_h, k_w = r.state_dict[0][1]
    h_o, w_o = r.out_shape[1:]
    rows_, cols_ = c_in * k_h * k_w, h_o * w_o
    col_bytes, in_bytes = 4 * rows_ * cols_, 4 * r.in_shape[0] * r.in_shape[1] * r.in_shape[2]
    steps = (
        Step(f"{name}'s {layer}: its output size", layers=(output_size(name, layer),)),
        Step(
            "im2col: each column holds one output position's receptive field over all input "
            "channels; the weights become a c_out × (c_in·k_h·k_w) matrix; the conv is their "
            "product (the executor's fast path, cnncalc/proof/executor/ops_fast.py, builds "
            "these columns)",
            lines=(
                line(
                    "columns matrix",
                    f"{rows_} × {cols_}",
                    "(c_in·k_h·k_w) × (H_o·W_o)",
                    f"({c_in}·{k_h}·{k_w}) × ({h_o}·{w_o})",
                ),
                line(
                    "weight matrix",
                    f"{c_out} × {rows_}",
                    "c_out × (c_in·k_h·k_w)",
                    f"{c_out} × ({c_in}·{k_h}·{k_w})",
                ),
                line(
                    "product",
                    f"{c_out} × {cols_}",
                    "c_out × (H_o·W_o)",
                    note=f"reshaped to {size(r.out_shape)}",
                ),
                line(
                    "MACs of the product",
                    c_out * rows_ * cols_,
                    "c_out·(c_in·k_h·k_w)·(H_o·W_o)",
                    f"{c_out}·{rows_}·{cols_}",
                    note=f"the conv's MACs: {r.macs}",
                ),
            ),
        ),
    )
    answer = (
        line("columns", f"{rows_} × {cols_}"),
        line("their memory (fp32)", col_bytes, "4·rows·columns", f"4·{rows_}·{cols_}"),
        line(
            "the input's memory (fp32)",
            in_bytes,
            "4·c_in·H·W",
            f"4·{size(r.in_shape).replace('×', '·')}",
        ),
        line(
            "columns ÷ input",
            times(col_bytes, in_bytes),
            note="each input value is copied into up to k_h·k_w columns",
        ),
    )
    values = {
        "columns": (rows_, cols_),
        "weights": (c_out, rows_),
        "bytes": (col_bytes, in_bytes),
        "macs": r.macs,
    }
    return steps, answer, (), values


# --------------------------------------------------------------------------- 15. edges


Grid = tuple[tuple[int, ...], ...]


def correlate(x: Grid, k: Grid) -> Grid:
    """d2l 7.2's corr2d: Y[i, j] = Σ_a Σ_b X[i + a, j + b]·K[a, b], no padding, stride 1."""
    kh, kw = len(k), len(k[0])
    return tuple(
        tuple(
            sum(x[i + a][j + b] * k[a][b] for a in range(kh) for b in range(kw))
            for j in range(len(x[0]) - kw + 1)
        )
        for i in range(len(x) - kh + 1)
    )


def stripe() -> Grid:
    """d2l 7.2.4's X: 6×8 ones (white) with columns 2 to 5 zero (a black stripe)."""
    return tuple(tuple(0 if 2 <= j <= 5 else 1 for j in range(8)) for _ in range(6))


def transpose(x: Grid) -> Grid:
    return tuple(zip(*x))


def triangle(n: int = 6) -> Grid:
    """n×n, white (1) above the main diagonal and black (0) on and below it."""
    return tuple(tuple(int(j > i) for j in range(n)) for i in range(n))


EDGE_KERNELS: dict[str, Grid] = {
    "vertical": ((1, -1),),
    "horizontal": ((1,), (-1,)),
    "diagonal": ((0, 1), (-1, 0)),
    "anti-diagonal": ((1, 0), (0, -1)),
}
"""d2l's K = [1, −1], its transpose, and two 2×2 kernels: 'diagonal' Y = X[i, j+1] − X[i+1, j]
compares pixels across the main diagonal (white up-right of black: an edge along it);
'anti-diagonal' Y = X[i, j] − X[i+1, j+1] compares pixels along the main diagonal, so it
finds edges along the other diagonal and none along the main one."""


def grid_step(title: str, g: Grid) -> Step:
    return Step(
        title,
        headers=("", *(str(j) for j in range(len(g[0])))),
        rows=tuple((f"row {i}", *r) for i, r in enumerate(g)),
    )


def _edges():
    horizontal_image, diagonal_image = transpose(stripe()), triangle()
    runs = (
        ("horizontal", horizontal_image, "Xᵀ (horizontal stripe)"),
        ("vertical", horizontal_image, "Xᵀ (horizontal stripe)"),
        ("diagonal", diagonal_image, "the triangle"),
        ("anti-diagonal", diagonal_image, "the triangle"),
    )
    steps = [
        grid_step(
            "Xᵀ: d2l's 6×8 stripe image transposed, a black band between white rows",
            horizontal_image,
        ),
        grid_step(
            "The triangle: white above the main diagonal, black on and below it", diagonal_image
        ),
    ]
    answer, values = [], {}
    for kernel, image, label in runs:
        k = EDGE_KERNELS[kernel]
        y = correlate(image, k)
        steps.append(grid_step(f"{kernel} kernel K = {[list(r) for r in k]} on {label}", y))
        found = sorted({(i, j) for i, r in enumerate(y) for j, v in enumerate(r) if v})
        answer.append(
            line(
                f"{kernel} kernel on {label}",
                f"{len(found)} nonzero outputs" if found else "all zeros",
                note=f"{size((len(y), len(y[0])))} output"
                + (f"; values {sorted({v for r in y for v in r if v})}" if found else ""),
            )
        )
        values[kernel] = y
    return tuple(steps), tuple(answer), (), values


# --------------------------------------------------------------------------- the list


SECTIONS: dict[str, str] = {}
"""Each answer's chapter section, for ``cnncalc answers``' grouped list."""


def _entry(section: str, name: str, title: str, question: str, source: str, work) -> Entry:
    SECTIONS[name] = section
    return Entry(name, title, question, source, work)


MODERN: tuple[Entry, ...] = (
    _entry(
        "d2l 8.1 AlexNet",
        "d2l-batch-memory",
        "d2l 8.1: batch size and training memory",
        "Change the batch size of d2l's AlexNet: how does the training memory change, and which "
        "part grows with the batch?",
        "d2l 8.1, exercises",
        _batch_memory,
    ),
    _entry(
        "d2l 8.2 VGG",
        "d2l-vgg-vs-alexnet",
        "d2l 8.2: why VGG is slower and bigger than AlexNet",
        "VGG is much slower and needs more memory than AlexNet: why? (d2l's VGG-11 and AlexNet)",
        "d2l 8.2, exercises",
        _vgg_vs_alexnet,
    ),
    _entry(
        "d2l 8.2 VGG",
        "d2l-input-96",
        "d2l 8.1/8.2: Fashion-MNIST at 96×96 instead of 224×224",
        "What changes when d2l's AlexNet gets 96×96 inputs: which layers' shapes, which layer "
        "no longer fits, and the MACs?",
        "d2l 8.1 and 8.2, exercises",
        _input_96,
    ),
    _entry(
        "papers",
        "vgg-configurations",
        "VGG's configurations A–E",
        "How many parameters have VGG's configurations A–E (VGG-11/13/16/19 and C, VGG-16 with "
        "1×1 convs), against the paper's 133/133/134/138/144 million?",
        "Simonyan & Zisserman 2015, Tables 1 and 2; d2l 8.2, exercises",
        _vgg_configurations,
    ),
    _entry(
        "d2l 8.3 NiN",
        "d2l-nin-1x1",
        "d2l 8.3: NiN with one 1×1 conv per block",
        "Why two 1×1 convs in a NiN block? Remove one: what does it save?",
        "d2l 8.3, exercises",
        _nin_one_1x1,
    ),
    _entry(
        "d2l 8.4 GoogLeNet",
        "d2l-parameter-sizes",
        "d2l 8.4: parameters of AlexNet, VGG, NiN and GoogLeNet",
        "Compare the parameter sizes of AlexNet, VGG, NiN and GoogLeNet: where does the "
        "difference live?",
        "d2l 8.4, exercises",
        _parameter_sizes,
    ),
    _entry(
        "d2l 8.5 BatchNorm",
        "d2l-bias-before-bn",
        "d2l 8.5: the bias before a BatchNorm",
        "Can the bias of the conv or fc layer before a BatchNorm be removed? Why?",
        "d2l 8.5, exercises",
        _bias_before_bn,
    ),
    _entry(
        "d2l 8.5 BatchNorm",
        "d2l-bn-not-affine",
        "d2l 8.5: BatchNorm without γ and β",
        "What if γ and β are not learnt (affine=False)? How many parameters are left, and what "
        "stays as buffers?",
        "d2l 8.5, exercises",
        _bn_not_affine,
    ),
    _entry(
        "papers",
        "resnet-table1",
        "ResNet's Table 1: parameters and multiply-adds",
        "Parameters and MACs of ResNet-18/34/50/101/152 against the paper's 1.8, 3.6, 3.8, 7.6, "
        "11.3 × 10⁹ FLOPs: why does torchvision's ResNet-50 come out higher?",
        "He, Zhang, Ren, Sun 2016, Table 1",
        _resnet_table1,
    ),
    _entry(
        "d2l 8.6 ResNet",
        "d2l-preactivation",
        "d2l 8.6: conv-BN-ReLU or BN-ReLU-conv",
        "Change the residual block's conv-BN-ReLU to BN-ReLU-conv: what changes in parameters "
        "and operations?",
        "d2l 8.6, exercises; He et al. 2016b, Identity Mappings in Deep Residual Networks",
        _preactivation,
    ),
    _entry(
        "d2l 8.7 DenseNet",
        "d2l-densenet-params",
        "d2l 8.7: why DenseNet has fewer parameters than ResNet",
        "Why does DenseNet have fewer parameters than ResNet? (d2l's pair at 96×96, and "
        "DenseNet-121 against ResNet-50)",
        "d2l 8.7, exercises",
        _densenet_params,
    ),
    _entry(
        "d2l 8.7 DenseNet",
        "d2l-densenet-memory",
        "d2l 8.7: DenseNet's training memory",
        "Is DenseNet's memory use really high? Change the input to 224×224 and see.",
        "d2l 8.7, exercises",
        _densenet_memory,
    ),
    _entry(
        "papers",
        "densenet-table1",
        "DenseNet's Table 1: DenseNet-121/169/201/264 and -161",
        "Parameters and MACs of DenseNet-121/169/201/264 (growth 32) and DenseNet-161 (growth 48)?",
        "Huang, Liu, van der Maaten, Weinberger 2017, Table 1",
        _densenet_table1,
    ),
    _entry(
        "d2l 7.2 convolution",
        "d2l-edges",
        "d2l 7.2: horizontal and diagonal edges",
        "Which kernels detect horizontal and diagonal edges? Run them on constructed images.",
        "d2l 7.2, exercises",
        _edges,
    ),
    _entry(
        "d2l 7.4 channels",
        "d2l-im2col",
        "d2l 7.4: a k×k conv as a matrix multiplication",
        "How is a conv that is not 1×1 computed as a matrix multiplication, and what do its "
        "matrices cost?",
        "d2l 7.4, exercises",
        _im2col,
    ),
)


register(*MODERN)

SECTION_ORDER = (
    "d2l 7.2 convolution",
    "d2l 7.3 padding and stride",
    "d2l 7.4 channels",
    "d2l 7.5 pooling",
    "d2l 8.1 AlexNet",
    "d2l 8.2 VGG",
    "d2l 8.3 NiN",
    "d2l 8.4 GoogLeNet",
    "d2l 8.5 BatchNorm",
    "d2l 8.6 ResNet",
    "d2l 8.7 DenseNet",
    "NNDL 5",
    "courses",
    "papers",
)
"""The order ``cnncalc answers`` lists the sections in."""

SECTIONS.update(
    {
        "lenet5": "papers",
        "nndl-5-4": "NNDL 5",
        "d2l-padding-stride": "d2l 7.3 padding and stride",
        "d2l-channels": "d2l 7.4 channels",
        "d2l-pooling": "d2l 7.5 pooling",
        "nndl-5-7": "NNDL 5",
        "inception-1x1": "courses",
        "inception-naive": "papers",
        "resnet-bottleneck": "papers",
        "alexnet-shapes": "papers",
        "mnist-inception": "courses",
        "mnist-resnet": "courses",
        "depth": "papers",
    }
)


def section(name: str) -> str:
    return SECTIONS.get(name, "papers")


def grouped(entries: list[Entry]) -> list[tuple[str, Entry]]:
    """(section, entry), in the sections' order, each section's entries in list order."""
    return sorted(
        ((section(e.name), e) for e in entries),
        key=lambda p: SECTION_ORDER.index(p[0]) if p[0] in SECTION_ORDER else len(SECTION_ORDER),
    )
