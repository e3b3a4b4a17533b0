"""Plain data across the jail's wall: numbers, strings, None, lists, tuples, dicts, sets and
NumPy arrays, and nothing else. Never pickle.

The grader's trusted process and the jailed kernel that runs a submission talk in frames:

    8 bytes    length of the header (big-endian)
    header     JSON (UTF-8): the message, with every value written as a tagged list
    blobs      the arrays the header refers to, each an ``np.save`` file (its length in the header)

Arrays are read back with ``np.load(..., allow_pickle=False)`` and must hold numbers, booleans
or text; an object array cannot cross. A value of another type is written as
``["opaque", type name]`` and arrives as an ``Unreadable`` that fails, with a message that says
what was returned, as soon as a test uses it.

Two kinds of things cross by reference, never by content:
- a function: the side that owns it keeps it and hands out a number; the other side gets a
  stand-in that sends the arguments across when called (``Handles``);
- a ``course.models.Sequential``: its layers (Dense only), weights, loss, optimizer settings
  and metrics by name, rebuilt on the other side from the course's own classes.

Standard library and NumPy only: the jailed kernel imports this module too.
"""
from __future__ import annotations

import io
import json
import struct

import numpy as np

__all__ = ["ProtocolError", "Unreadable", "Handles", "Borrowed", "encode", "decode", "write_frame", "read_frame",
           "ARRAY_KINDS"]

ARRAY_KINDS = "biufcUS"        # bool, ints, floats, complex, text: what np.load reads safely
MAX_HEADER = 16 * 2**20        # bytes of JSON in one frame
MAX_DEPTH = 64                 # nesting of lists, tuples and dicts
MAX_NODES = 2_000_000          # values in one message
MAX_INT_DIGITS = 4000          # below Python's own limit for int(str)
MAX_TEXT = 4 * 2**20           # characters of one string


class ProtocolError(ValueError):
    """A frame or a value that breaks the rules above: the other side is not to be believed."""


class Unreadable:
    """Stands for a value that could not cross (an object of the learner's own class, say).

    Any use of it fails with a message naming what the learner's code returned."""

    __slots__ = ("_what",)

    def __init__(self, what: str):
        object.__setattr__(self, "_what", str(what)[:200])

    def _fail(self, *args, **kwargs):
        raise TypeError(f"the submission returned {self._what}, which the grader cannot check: "
                        f"return numbers, strings, lists, tuples, dicts or NumPy arrays")

    __call__ = __getattr__ = __getitem__ = __iter__ = __len__ = __bool__ = __array__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _fail
    __lt__ = __le__ = __gt__ = __ge__ = __float__ = __int__ = __index__ = _fail

    def __eq__(self, other):
        return self._fail()

    __hash__ = None

    def __repr__(self) -> str:
        return f"<{self._what}>"


class Borrowed:
    """Base of the stand-ins for the other side's functions: sent back, one stays a number."""

    number: int = 0


class Handles:
    """Functions this side lends to the other one, by number."""

    def __init__(self):
        self.objects: dict[int, object] = {}
        self._ids: dict[int, int] = {}

    def lend(self, obj) -> int:
        number = self._ids.get(id(obj))
        if number is None or self.objects.get(number) is not obj:
            number = len(self.objects) + 1
            self.objects[number] = obj
            self._ids[id(obj)] = number
        return number

    def get(self, number):
        if not isinstance(number, int) or number not in self.objects:
            raise ProtocolError(f"no function number {number!r} was lent")
        return self.objects[number]


# -- values ----------------------------------------------------------------------------------------
def encode(value, blobs: list, lend=None, depth: int = 0):
    """The tagged JSON form of ``value``; arrays are appended to ``blobs`` as np.save bytes.

    lend(func) -> number is called for functions; without it a function is opaque."""
    if depth > MAX_DEPTH:
        raise ProtocolError(f"the value is nested more than {MAX_DEPTH} levels deep")
    if value is None:
        return ["none"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int) and type(value) is int:
        text = str(value) if abs(value) < 10 ** MAX_INT_DIGITS else None
        if text is None:
            raise ProtocolError(f"an integer of more than {MAX_INT_DIGITS} digits")
        return ["int", text]
    if type(value) is float:
        return ["float", repr(value)]
    if type(value) is complex:
        return ["complex", repr(value.real), repr(value.imag)]
    if type(value) is str:
        if len(value) > MAX_TEXT:
            raise ProtocolError(f"a string of {len(value):,} characters")
        return ["str", value]
    if type(value) is bytes:
        return ["bytes", _array_blob(np.frombuffer(value, dtype=np.uint8), blobs)]
    if isinstance(value, np.generic):
        return ["scalar", _array_blob(np.asarray(value), blobs)]
    if type(value) is np.ndarray:
        return ["array", _array_blob(value, blobs)]
    if type(value) in (list, tuple, set, frozenset):
        tag = {list: "list", tuple: "tuple", set: "set", frozenset: "set"}[type(value)]
        return [tag, [encode(item, blobs, lend, depth + 1) for item in value]]
    if type(value) is dict:
        return ["dict", [[encode(k, blobs, lend, depth + 1), encode(v, blobs, lend, depth + 1)]
                         for k, v in value.items()]]
    if isinstance(value, Borrowed):
        return ["yours", int(value.number)]
    model = _model_class()
    if model is not None and type(value) is model:
        return ["model", encode(model_to_plain(value), blobs, None, depth + 1)]
    if callable(value) and lend is not None and not isinstance(value, type):
        return ["function", lend(value), str(getattr(value, "__name__", "function"))[:100]]
    return ["opaque", f"an object of type {type(value).__name__}"[:200]]


def _array_blob(array: np.ndarray, blobs: list) -> int:
    if array.dtype.kind not in ARRAY_KINDS:
        raise ProtocolError(f"an array of dtype {array.dtype} (only numbers, booleans and text cross)")
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array) if array.ndim else array, allow_pickle=False)
    blobs.append(buffer.getvalue())
    return len(blobs) - 1


class _Budget:
    def __init__(self):
        self.nodes = 0

    def take(self):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ProtocolError(f"more than {MAX_NODES:,} values in one message")


def decode(tagged, blobs: list, borrow=None, own=None, depth: int = 0, budget: _Budget | None = None):
    """The value that ``encode`` wrote. borrow(number, name) makes the stand-in of a function the
    other side lent; own(number) is this side's function that the other side sends back.

    Anything malformed raises ProtocolError: the tags, the arrays and their dtypes are checked."""
    budget = budget or _Budget()
    budget.take()
    if depth > MAX_DEPTH + 2:
        raise ProtocolError("a value nested too deeply")
    if not isinstance(tagged, list) or not tagged or not isinstance(tagged[0], str):
        raise ProtocolError("a value is not tagged")
    tag, rest = tagged[0], tagged[1:]
    try:
        if tag == "none":
            return None
        if tag == "bool":
            _expect(isinstance(rest[0], bool))
            return rest[0]
        if tag == "int":
            _expect(isinstance(rest[0], str) and len(rest[0]) <= MAX_INT_DIGITS + 1)
            return int(rest[0])
        if tag == "float":
            _expect(isinstance(rest[0], str) and len(rest[0]) < 40)
            return float(rest[0])
        if tag == "complex":
            _expect(all(isinstance(r, str) and len(r) < 40 for r in rest[:2]))
            return complex(float(rest[0]), float(rest[1]))
        if tag == "str":
            _expect(isinstance(rest[0], str))
            return rest[0]
        if tag == "bytes":
            return _load_array(blobs, rest[0]).astype(np.uint8).tobytes()
        if tag == "scalar":
            array = _load_array(blobs, rest[0])
            _expect(array.ndim == 0)
            return array[()]
        if tag == "array":
            return _load_array(blobs, rest[0])
        if tag in ("list", "tuple", "set"):
            _expect(isinstance(rest[0], list))
            items = [decode(item, blobs, borrow, own, depth + 1, budget) for item in rest[0]]
            return {"list": list, "tuple": tuple, "set": set}[tag](items)
        if tag == "dict":
            _expect(isinstance(rest[0], list))
            out = {}
            for pair in rest[0]:
                _expect(isinstance(pair, list) and len(pair) == 2)
                key = decode(pair[0], blobs, borrow, own, depth + 1, budget)
                try:
                    hash(key)
                except TypeError:
                    raise ProtocolError("a dict key that cannot be hashed") from None
                out[key] = decode(pair[1], blobs, borrow, own, depth + 1, budget)
            return out
        if tag == "model":
            return model_from_plain(decode(rest[0], blobs, None, None, depth + 1, budget))
        if tag == "function":
            _expect(isinstance(rest[0], int) and not isinstance(rest[0], bool))
            name = str(rest[1])[:100] if len(rest) > 1 else "function"
            if borrow is None:
                return Unreadable(f"a function ({name})")
            return borrow(rest[0], name)
        if tag == "yours":
            _expect(isinstance(rest[0], int) and not isinstance(rest[0], bool) and own is not None)
            return own(rest[0])
        if tag == "opaque":
            return Unreadable(str(rest[0]) if rest else "an object")
    except (IndexError, TypeError, ValueError, OverflowError) as error:
        if isinstance(error, ProtocolError):
            raise
        raise ProtocolError(f"a malformed {tag!r} value ({error})") from None
    raise ProtocolError(f"an unknown tag {tag!r}")


def _expect(condition: bool) -> None:
    if not condition:
        raise ProtocolError("a malformed value")


def _load_array(blobs: list, index) -> np.ndarray:
    _expect(isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(blobs))
    try:
        array = np.load(io.BytesIO(blobs[index]), allow_pickle=False)
    except Exception as error:  # a broken .npy header, object arrays, a short file
        raise ProtocolError(f"an array that np.load refuses ({type(error).__name__}: {error})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in ARRAY_KINDS:
        raise ProtocolError(f"an array of dtype {getattr(array, 'dtype', '?')}")
    return array


# -- frames ----------------------------------------------------------------------------------------
def write_frame(stream, message: dict, blobs: list) -> None:
    """Write one message and its arrays; the caller flushes."""
    message = dict(message, blobs=[len(b) for b in blobs])
    header = json.dumps(message, allow_nan=False).encode("utf-8")
    stream.write(struct.pack(">Q", len(header)))
    stream.write(header)
    for blob in blobs:
        stream.write(blob)
    stream.flush()


def _read_exact(stream, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream, max_bytes: int = 256 * 2**20) -> tuple[dict, list]:
    """One message and its arrays. ProtocolError for anything over the limits or malformed."""
    (size,) = struct.unpack(">Q", _read_exact(stream, 8))
    if size > MAX_HEADER:
        raise ProtocolError(f"a header of {size:,} bytes")
    try:
        message = json.loads(_read_exact(stream, size).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ProtocolError(f"a header that is not JSON ({error})") from None
    if not isinstance(message, dict):
        raise ProtocolError("a header that is not an object")
    sizes = message.get("blobs", [])
    if not (isinstance(sizes, list) and all(isinstance(s, int) and s >= 0 for s in sizes)
            and sum(sizes) <= max_bytes):
        raise ProtocolError(f"arrays over the limit of {max_bytes:,} bytes, or malformed sizes")
    return message, [_read_exact(stream, s) for s in sizes]


# -- models ----------------------------------------------------------------------------------------
def _model_class():
    try:
        from ...models import Sequential
    except ImportError:  # pragma: no cover - the course is always importable where this runs
        return None
    return Sequential


def model_to_plain(model) -> dict:
    """A Sequential as plain data: Dense layers with their weights, loss, optimizer, metrics."""
    from ...layers import Dense

    layers = []
    for layer in model.layers:
        if type(layer) is not Dense:
            raise ProtocolError(f"a model with a layer of type {type(layer).__name__} (only Dense crosses)")
        layers.append({"units": layer.units, "activation": layer.activation.name,
                       "use_bias": layer.use_bias, "dtype": layer.dtype.name, "name": layer.name,
                       "input_dim": int(layer.input_shape[-1]), "kernel": layer.kernel,
                       "bias": layer.bias})
    compiled = None
    if model.loss is not None and model.optimizer is not None:
        optimizer = model.optimizer
        config = {k: (float(v) if isinstance(v, float) else v) for k, v in optimizer.get_config().items()}
        compiled = {"loss": model.loss.name, "optimizer": type(optimizer).__name__, "config": config,
                    "iterations": int(optimizer.iterations),
                    "metrics": [name for name, _ in model.metrics]}
    return {"name": model.name, "layers": layers, "compiled": compiled}


def model_from_plain(plain) -> object:
    """Rebuild a Sequential from ``model_to_plain``'s data, with the course's own classes; every
    value goes through the constructors' checks."""
    from ... import optimizers
    from ...layers import Dense
    from ...models import Sequential

    try:
        _expect(isinstance(plain, dict) and isinstance(plain.get("layers"), list))
        model = Sequential(name=str(plain.get("name") or "sequential")[:100])
        for spec in plain["layers"]:
            _expect(isinstance(spec, dict))
            kernel, bias = spec["kernel"], spec["bias"]
            _expect(isinstance(kernel, np.ndarray) and kernel.ndim == 2)
            layer = Dense(spec["units"], activation=spec["activation"], use_bias=spec["use_bias"],
                          dtype=spec["dtype"], name=str(spec["name"])[:100],
                          input_shape=(kernel.shape[0],) if not model.layers else None, seed=0)
            model.add(layer)
            _expect(layer.kernel.shape == kernel.shape)
            layer.kernel = np.ascontiguousarray(kernel.astype(layer.dtype))
            if layer.use_bias:
                _expect(isinstance(bias, np.ndarray) and bias.shape == layer.bias.shape)
                layer.bias = np.ascontiguousarray(bias.astype(layer.dtype))
        compiled = plain.get("compiled")
        if compiled is not None:
            _expect(isinstance(compiled, dict) and isinstance(compiled.get("config"), dict))
            name = compiled["optimizer"]
            cls = getattr(optimizers, name, None) if isinstance(name, str) else None
            _expect(isinstance(cls, type) and issubclass(cls, optimizers.Optimizer))
            optimizer = cls(**{str(k): v for k, v in compiled["config"].items()})
            iterations = compiled.get("iterations", 0)
            _expect(isinstance(iterations, int) and 0 <= iterations < 2**40)
            optimizer.iterations = iterations
            model.compile(loss=compiled["loss"], optimizer=optimizer, metrics=list(compiled["metrics"]))
        return model
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProtocolError(f"a model that cannot be rebuilt ({type(error).__name__}: {error})") from None

