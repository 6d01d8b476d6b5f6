"""OR and NOT, which MLflow lacks: an expression -> a small union of conjunctions MLflow can run.

NOT is pushed into each condition where an exact complement exists in MLflow's semantics (a
condition on a key a run may lack never matches runs without that key, so `NOT params.x = 'a'`
is `params.x != 'a'` OR `params.x IS NULL`); where none exists the builder refuses and says why.
Then the union is kept small: duplicate and subsumed conjunctions are dropped, and conjunctions
that differ in one `=` on a key that takes lists are merged into `IN`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfilter import ast
from mlfilter.builder.render import BuildError
from mlfilter.builder.terms import Intent, Predicate

MAX_SEARCHES = 50

_FLIP = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">", "IN": "NOT IN",
         "NOT IN": "IN", "IS NULL": "IS NOT NULL", "IS NOT NULL": "IS NULL"}


@dataclass(frozen=True)
class Leaf:
    """One condition: the text MLflow gets and what it means."""

    key: str  # the key as written in the filter
    op: str
    value: str | None  # the value as written (None for IS [NOT] NULL)
    intent: Intent

    @property
    def text(self) -> str:
        return f"{self.key} {self.op}" + (f" {self.value}" if self.value is not None else "")

    def with_op(self, op: str) -> Leaf:
        value = None if op in ("IS NULL", "IS NOT NULL") else self.value
        intent_value = None if value is None else self.intent.value
        return Leaf(self.key, op, value, Intent(self.intent.kind, self.intent.key, op, intent_value))


@dataclass(frozen=True)
class Complements:
    """Which conditions of an API have an exact complement (a table per API, in query.py)."""

    always_present: frozenset[tuple[str, str]]  # (kind, key) every entity has: flip the op
    nullable: frozenset[str]  # kinds that may be missing and take IS NULL: flip OR IS NULL


Conjunction = tuple[Leaf, ...]


def to_union(p: Predicate, complements: Complements) -> list[Conjunction]:
    """The expression as a list of conjunctions (their union is the expression)."""
    leaves = iter(_leaves(p))
    dnf = _dnf(p.node.root, leaves, complements, negate=False) if p.node.root is not None else [()]
    return simplify(dnf)


def _leaves(p: Predicate) -> list[Leaf]:
    out = []
    comparisons = list(ast.iter_comparisons(p.node.root))
    if len(comparisons) != len(p.intents):
        raise BuildError("internal mismatch between the expression and its conditions")
    for c, intent in zip(comparisons, p.intents):
        value = c.right.text if c.right is not None else None
        out.append(Leaf(c.left.text, c.op.canonical, value, intent))
    return out


def _dnf(node, leaves, complements: Complements, negate: bool) -> list[Conjunction]:
    if isinstance(node, ast.Group):
        return _dnf(node.item, leaves, complements, negate)
    if isinstance(node, ast.Not):
        return _dnf(node.item, leaves, complements, not negate)
    if isinstance(node, ast.Comparison):
        leaf = next(leaves)
        if not negate:
            return [(leaf,)]
        return [(alt,) for alt in _complement(leaf, complements)]
    if isinstance(node, (ast.And, ast.Or)):
        parts = [_dnf(item, leaves, complements, negate) for item in node.items]
        conjunctive = isinstance(node, ast.And) != negate  # De Morgan
        if not conjunctive:
            return [c for part in parts for c in part]
        out: list[Conjunction] = [()]
        for part in parts:
            out = [a + b for a in out for b in part]
            if len(out) > MAX_SEARCHES * 4:
                raise BuildError(f"this expression expands to more than {MAX_SEARCHES} searches; "
                                 "simplify it (IN lists help)")
        return out
    raise BuildError(f"not a filter expression: {node!r}")


def _complement(leaf: Leaf, complements: Complements) -> list[Leaf]:
    """The leaves whose union is exactly NOT leaf, or BuildError."""
    kind, key = leaf.intent.kind, leaf.intent.key
    flipped = _FLIP.get(leaf.op)
    if leaf.op in ("IS NULL", "IS NOT NULL"):
        return [leaf.with_op(flipped)]
    if flipped is None:
        raise BuildError(f"MLflow has no exact opposite of `{leaf.text}` (there is no NOT "
                         f"{leaf.op}); filter the results yourself, or rewrite the condition")
    if (kind, key) in complements.always_present:
        return [leaf.with_op(flipped)]
    if kind in complements.nullable:
        return [leaf.with_op(flipped), leaf.with_op("IS NULL")]
    raise BuildError(
        f"`NOT {leaf.text}` also matches entities that have no {kind} `{key}`, and this search "
        f"cannot ask for those; write the explicit form `{leaf.with_op(flipped).text}` if you "
        f"mean only entities that have it")


def simplify(dnf: list[Conjunction]) -> list[Conjunction]:
    """Drop repeated conditions, duplicate and subsumed conjunctions."""
    seen: list[Conjunction] = []
    sets: list[frozenset[str]] = []
    for conj in dnf:
        unique = tuple(dict.fromkeys(conj).keys())
        texts = frozenset(leaf.text for leaf in unique)
        if any(s <= texts for s in sets):  # a broader conjunction already covers it
            continue
        keep = [i for i, s in enumerate(sets) if not texts <= s]
        seen = [seen[i] for i in keep] + [unique]
        sets = [sets[i] for i in keep] + [texts]
    return seen


def merge_in(dnf: list[Conjunction], takes_list) -> list[Conjunction]:
    """`R AND k = a` OR `R AND k = b` -> `R AND k IN (a, b)` when `takes_list(leaf)`."""
    changed = True
    while changed and len(dnf) > 1:
        changed = False
        for i in range(len(dnf)):
            for j in range(i + 1, len(dnf)):
                merged = _merge_pair(dnf[i], dnf[j], takes_list)
                if merged is not None:
                    dnf = [c for k, c in enumerate(dnf) if k not in (i, j)] + [merged]
                    changed = True
                    break
            if changed:
                break
    return dnf


def _merge_pair(a: Conjunction, b: Conjunction, takes_list) -> Conjunction | None:
    rest_a = [x for x in a]
    rest_b = [x for x in b]
    diff_a = [x for x in rest_a if x not in rest_b]
    diff_b = [x for x in rest_b if x not in rest_a]
    if len(diff_a) != 1 or len(diff_b) != 1:
        return None
    x, y = diff_a[0], diff_b[0]
    if x.key != y.key or x.op not in ("=", "IN") or y.op not in ("=", "IN") or not takes_list(x):
        return None
    values = _as_tuple(x) + tuple(v for v in _as_tuple(y) if v not in _as_tuple(x))
    from mlfilter.builder.render import list_text

    leaf = Leaf(x.key, "IN", list_text(values), Intent(x.intent.kind, x.intent.key, "IN", values))
    return tuple(leaf if item == x else item for item in a)


def _as_tuple(leaf: Leaf) -> tuple:
    v = leaf.intent.value
    return tuple(v) if isinstance(v, tuple) else (v,)
