"""An ONNX file's structure read straight from protobuf's wire format, weights skipped.

``cnncalc import`` needs the nodes, their attributes, the inputs' and outputs' shapes,
and of each weight only its name and dims. Reading those by hand, over a memory map,
costs a few milliseconds where ``import onnx`` (numpy, protobuf, the operator schemas)
and parsing every weight byte of a 100 MB file cost most of a second: a weight's
``raw_data`` is stepped over, its pages never read.

The wire format (protobuf's encoding guide): each field is a varint key
``number << 3 | wire type`` then its value: 0 a varint, 1 eight bytes, 2 a varint length
and that many bytes (a string, a message, or a packed repeated scalar), 5 four bytes.
Field numbers are onnx/onnx.proto's (ModelProto, GraphProto, NodeProto, AttributeProto,
TensorProto, ValueInfoProto, TypeProto). Unknown fields are skipped, as protobuf does.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

KEPT_BYTES = 1 << 16
"""A tensor's data up to this size is kept (shape vectors, scalars, small constants);
a larger one is a weight, of which only the dims are read."""


class ProtoError(Exception):
    """The bytes are not a well-formed ONNX protobuf (truncated, or not protobuf)."""


@dataclass
class Tensor:
    """A TensorProto: its name, dims, element type and (when small) its data."""

    name: str = ""
    dims: tuple[int, ...] = ()
    data_type: int = 0
    raw: bytes | None = None  # raw_data, little-endian
    numbers: list[float | int] = field(default_factory=list)  # float/int32/int64/… _data
    too_large: bool = False

    def array(self):
        """The tensor as a numpy array (numpy is the ``onnx`` extra's own dependency)."""
        import numpy

        if self.too_large:
            raise ProtoError(f"the constant '{self.name}' is too large to be read as an option")
        dtype = numpy.dtype(_DTYPES.get(self.data_type, "<f4"))
        if self.raw is not None:
            flat = numpy.frombuffer(self.raw, dtype=dtype)
        elif self.data_type == 10:  # float16 kept as its bits in int32_data
            flat = numpy.array(self.numbers, dtype="<u2").view("<f2")
        else:
            flat = numpy.array(self.numbers, dtype=dtype)
        return flat.reshape(self.dims)


_DTYPES = {
    1: "<f4",
    2: "u1",
    3: "i1",
    4: "<u2",
    5: "<i2",
    6: "<i4",
    7: "<i8",
    9: "?",
    10: "<f2",
    11: "<f8",
    12: "<u4",
    13: "<u8",
}
"""TensorProto.DataType → numpy dtype."""


@dataclass
class Attribute:
    """An AttributeProto; ``value`` is what onnx.helper.get_attribute_value returns."""

    name: str = ""
    type: int = 0
    f: float = 0.0
    i: int = 0
    s: bytes = b""
    t: Tensor | None = None
    floats: list[float] = field(default_factory=list)
    ints: list[int] = field(default_factory=list)
    strings: list[bytes] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    @property
    def value(self) -> Any:
        kind = self.type or _guess_type(self.seen)
        values = {
            1: self.f,
            2: self.i,
            3: self.s,
            4: self.t,
            6: self.floats,
            7: self.ints,
            8: self.strings,
        }
        return values.get(kind)


def _guess_type(seen: set[int]) -> int:
    """Old files leave AttributeProto.type unset: the field present says it."""
    by_field = {2: 1, 3: 2, 4: 3, 5: 4, 7: 6, 8: 7, 9: 8}
    return next((by_field[f] for f in sorted(seen) if f in by_field), 0)


@dataclass
class Node:
    """A NodeProto."""

    input: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    name: str = ""
    op_type: str = ""
    domain: str = ""
    attribute: list[Attribute] = field(default_factory=list)


@dataclass
class Dim:
    """TensorShapeProto.Dimension: a size or a symbolic name."""

    value: int | None = None
    param: str = ""


@dataclass
class ValueInfo:
    """A ValueInfoProto: a tensor's name and (when given) its shape."""

    name: str = ""
    shape: list[Dim] | None = None


@dataclass
class Graph:
    """A GraphProto."""

    name: str = ""
    node: list[Node] = field(default_factory=list)
    initializer: list[Tensor] = field(default_factory=list)
    input: list[ValueInfo] = field(default_factory=list)
    output: list[ValueInfo] = field(default_factory=list)
    value_info: list[ValueInfo] = field(default_factory=list)


@dataclass
class Model:
    """A ModelProto: its producer, opsets (domain, version) and graph."""

    ir_version: int = 0
    producer_name: str = ""
    producer_version: str = ""
    opset_import: list[tuple[str, int]] = field(default_factory=list)
    graph: Graph = field(default_factory=Graph)


# --------------------------------------------------------------------------- the wire format


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise ProtoError("a number runs past the end of its message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtoError("a number longer than ten bytes")


def _signed(value: int) -> int:
    """int64 fields hold negatives as 64-bit two's complement."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _fields(buf, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, value or start, stop) of each field in buf[pos:end]:
    a varint's value for wire type 0, the value's byte range for the others."""
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtoError("a field numbered 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield number, 0, value, pos
            continue
        if wire == 2:
            length, pos = _varint(buf, pos, end)
            size = length
        elif wire == 1:
            size = 8
        elif wire == 5:
            size = 4
        else:
            raise ProtoError(f"wire type {wire}, which ONNX never writes")
        if pos + size > end:
            raise ProtoError("a field runs past the end of its message")
        yield number, wire, pos, pos + size
        pos += size


def _text(buf, start: int, stop: int) -> str:
    try:
        return bytes(buf[start:stop]).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtoError("a name that is not UTF-8") from None


def _packed_varints(buf, wire: int, start: int, stop: int) -> list[int]:
    """A repeated int64 field: packed (wire type 2) or one value (wire type 0)."""
    if wire == 0:
        return [_signed(start)]
    values = []
    pos = start
    while pos < stop:
        value, pos = _varint(buf, pos, stop)
        values.append(_signed(value))
    return values


def _fixed(buf, wire: int, start: int, stop: int, code: str) -> list[float]:
    """A repeated float (``f``, 4 bytes) or double (``d``, 8 bytes) field."""
    size = struct.calcsize(code)
    if (stop - start) % size:
        raise ProtoError("a list of numbers of a broken length")
    return list(struct.unpack(f"<{(stop - start) // size}{code}", bytes(buf[start:stop])))


def _tensor(buf, pos: int, end: int) -> Tensor:
    tensor = Tensor()
    dims: list[int] = []
    data_bytes = 0
    for number, wire, start, stop in _fields(buf, pos, end):
        if number == 1:
            dims.extend(_packed_varints(buf, wire, start, stop))
        elif number == 2 and wire == 0:
            tensor.data_type = start
        elif number == 8 and wire == 2:
            tensor.name = _text(buf, start, stop)
        elif number in (4, 5, 7, 9, 10, 11):
            data_bytes += (stop - start) if wire else 8
            if data_bytes > KEPT_BYTES:
                tensor.too_large, tensor.raw, tensor.numbers = True, None, []
            elif number == 9 and wire == 2:
                tensor.raw = bytes(buf[start:stop])
            elif number == 4:  # float_data
                tensor.numbers += _fixed(buf, wire, start, stop, "f")
            elif number == 10:  # double_data
                tensor.numbers += _fixed(buf, wire, start, stop, "d")
            else:  # int32_data, int64_data, uint64_data
                tensor.numbers += _packed_varints(buf, wire, start, stop)
    tensor.dims = tuple(dims)
    return tensor


def _attribute(buf, pos: int, end: int) -> Attribute:
    a = Attribute()
    for number, wire, start, stop in _fields(buf, pos, end):
        a.seen.add(number)
        if number == 1 and wire == 2:
            a.name = _text(buf, start, stop)
        elif number == 20 and wire == 0:
            a.type = start
        elif number == 2 and wire == 5:
            (a.f,) = struct.unpack("<f", bytes(buf[start:stop]))
        elif number == 3 and wire == 0:
            a.i = _signed(start)
        elif number == 4 and wire == 2:
            a.s = bytes(buf[start:stop])
        elif number == 5 and wire == 2:
            a.t = _tensor(buf, start, stop)
        elif number == 7:
            a.floats += _fixed(buf, wire, start, stop, "f") if wire in (2, 5) else []
        elif number == 8:
            a.ints += _packed_varints(buf, wire, start, stop)
        elif number == 9 and wire == 2:
            a.strings.append(bytes(buf[start:stop]))
    return a


def _node(buf, pos: int, end: int) -> Node:
    node = Node()
    for number, wire, start, stop in _fields(buf, pos, end):
        if wire != 2:
            continue
        if number == 1:
            node.input.append(_text(buf, start, stop))
        elif number == 2:
            node.output.append(_text(buf, start, stop))
        elif number == 3:
            node.name = _text(buf, start, stop)
        elif number == 4:
            node.op_type = _text(buf, start, stop)
        elif number == 7:
            node.domain = _text(buf, start, stop)
        elif number == 5:
            node.attribute.append(_attribute(buf, start, stop))
    return node


def _sub(buf, number: int, start: int, stop: int) -> tuple[int, int] | None:
    """The byte range of the (last) message field ``number`` inside buf[start:stop]."""
    found = None
    for n, wire, s, e in _fields(buf, start, stop):
        if n == number and wire == 2:
            found = (s, e)
    return found


def _value_info(buf, pos: int, end: int) -> ValueInfo:
    info = ValueInfo()
    for number, wire, start, stop in _fields(buf, pos, end):
        if number == 1 and wire == 2:
            info.name = _text(buf, start, stop)
        elif number == 2 and wire == 2:  # TypeProto → tensor_type (1) → shape (2) → dim (1)
            tensor_type = _sub(buf, 1, start, stop)
            shape = tensor_type and _sub(buf, 2, *tensor_type)
            if shape is None:
                continue
            info.shape = []
            for n, w, s, e in _fields(buf, *shape):
                if n != 1 or w != 2:
                    continue
                dim = Dim()
                for dn, dw, ds, de in _fields(buf, s, e):
                    if dn == 1 and dw == 0:
                        dim.value = _signed(ds)
                    elif dn == 2 and dw == 2:
                        dim.param = _text(buf, ds, de)
                info.shape.append(dim)
    return info


def _graph(buf, pos: int, end: int) -> Graph:
    graph = Graph()
    for number, wire, start, stop in _fields(buf, pos, end):
        if wire != 2:
            continue
        if number == 1:
            graph.node.append(_node(buf, start, stop))
        elif number == 2:
            graph.name = _text(buf, start, stop)
        elif number == 5:
            graph.initializer.append(_tensor(buf, start, stop))
        elif number == 11:
            graph.input.append(_value_info(buf, start, stop))
        elif number == 12:
            graph.output.append(_value_info(buf, start, stop))
        elif number == 13:
            graph.value_info.append(_value_info(buf, start, stop))
    return graph


def parse_model(buf) -> Model:
    """A ModelProto from its bytes (bytes, or a memory map); ProtoError if malformed."""
    model = Model()
    for number, wire, start, stop in _fields(buf, 0, len(buf)):
        if number == 1 and wire == 0:
            model.ir_version = start
        elif number == 2 and wire == 2:
            model.producer_name = _text(buf, start, stop)
        elif number == 3 and wire == 2:
            model.producer_version = _text(buf, start, stop)
        elif number == 7 and wire == 2:
            model.graph = _graph(buf, start, stop)
        elif number == 8 and wire == 2:
            domain, version = "", 0
            for n, w, s, e in _fields(buf, start, stop):
                if n == 1 and w == 2:
                    domain = _text(buf, s, e)
                elif n == 2 and w == 0:
                    version = _signed(s)
            model.opset_import.append((domain, version))
    return model


def read_file(path: Path) -> Model:
    """The ModelProto of the file at ``path``, read through a memory map, so that only the
    pages holding the graph's structure are read from disk, never the weights'."""
    with path.open("rb") as f:
        if path.stat().st_size == 0:
            raise ProtoError("the file is empty")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return parse_model(buf)
