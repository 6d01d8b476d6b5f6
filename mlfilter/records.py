"""Frozen, slotted record classes without the dataclasses module.

`@record` gives a class what `@dataclass(frozen=True, slots=True)` gave it (an `__init__` of its
annotated fields with their defaults, `__repr__`, `__eq__`, `__hash__`, `__match_args__`, no
assignment after construction, pickling) at a fraction of the import cost: `dataclasses` pulls
in `inspect` and builds each class with many `exec` calls, which a `mlfilter check` process
paid at every start. Here each class costs one small `exec` (its `__init__`). `replace` and `fields` stand in for
`dataclasses.replace` and `dataclasses.fields`.
"""

from __future__ import annotations

from operator import attrgetter

_MISSING = object()


class FrozenError(AttributeError):
    """Assigning to a field of a record (as dataclasses' FrozenInstanceError)."""


def record(cls=None, *, slots: bool = True, compare: tuple[str, ...] | None = None,
           shown: tuple[str, ...] | None = None):
    """Make `cls` a frozen record of its annotated fields. `compare` and `shown` name the fields
    that take part in equality and hashing, and in repr (default: all); `slots=False` keeps an
    instance `__dict__` (a record that caches something on itself)."""
    if cls is None:
        return lambda c: record(c, slots=slots, compare=compare, shown=shown)
    names = tuple(cls.__dict__.get("__annotations__", {}))
    defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
    body = {k: v for k, v in cls.__dict__.items()
            if k not in defaults and k not in ("__dict__", "__weakref__")}
    if slots:
        body["__slots__"] = names
    new = type(cls)(cls.__name__, cls.__bases__, body)
    new.__qualname__ = cls.__qualname__
    new.__record_fields__ = names
    new.__record_defaults__ = defaults
    new.__match_args__ = names
    compare = names if compare is None else compare
    new.__record_shown__ = names if shown is None else shown
    # a tuple of the compared fields, in C (attrgetter of one name gives the bare value)
    getter = attrgetter(*compare) if compare else (lambda obj: ())
    new.__record_key__ = staticmethod(getter if len(compare) != 1 else lambda obj: (getter(obj),))
    # Only __init__ is generated: it runs for every node of every filter. The others are shared.
    params = ", ".join(f"{n}=_d_{n}" if n in defaults else n for n in names)
    sets = "".join(f"    _set(self, {n!r}, {n})\n" for n in names) or "    pass\n"
    scope = {"_set": object.__setattr__, **{f"_d_{n}": v for n, v in defaults.items()}}
    exec(f"def __init__(self, {params}):\n{sets}", scope)
    scope["__init__"].__qualname__ = f"{cls.__qualname__}.__init__"
    new.__init__ = scope["__init__"]
    new.__repr__ = _repr
    new.__eq__ = _eq
    new.__hash__ = _hash
    new.__setattr__ = _frozen_setattr
    new.__delattr__ = _frozen_delattr
    new.__getstate__ = _getstate
    new.__setstate__ = _setstate
    return new


def _repr(self):
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_shown__)
    return f"{self.__class__.__qualname__}({shown})"


def _eq(self, other):
    if other.__class__ is not self.__class__:
        return NotImplemented
    key = self.__record_key__
    return key(self) == key(other)


def _hash(self):
    return hash(self.__record_key__(self))


def _frozen_setattr(self, name, value):
    raise FrozenError(f"cannot assign to field {name!r}")


def _frozen_delattr(self, name):
    raise FrozenError(f"cannot delete field {name!r}")


def _getstate(self):
    return tuple(getattr(self, n) for n in self.__record_fields__)


def _setstate(self, state):
    for name, value in zip(self.__record_fields__, state):
        object.__setattr__(self, name, value)


def fields(obj) -> tuple[str, ...]:
    """The field names of a record (class or instance), in order."""
    return obj.__record_fields__


def is_record(obj) -> bool:
    return hasattr(obj, "__record_fields__")


def replace(obj, **changes):
    """A copy of the record `obj` with some fields changed (dataclasses.replace)."""
    cls = obj.__class__
    for name in changes:
        if name not in cls.__record_fields__:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
    return cls(**{n: changes[n] if n in changes else getattr(obj, n)
                  for n in cls.__record_fields__})
