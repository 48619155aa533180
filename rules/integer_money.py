"""An amount of money computed with a float: a float literal, `float()`, true division or `round()`.

Why: a float cannot hold most decimal fractions. `0.29 * 100` is `28.999999999999996`, so
`int()` of it loses a cent; amounts that pass through floats drift, and the ledger stops
reconciling with what the payment provider settled.

Instead: keep money in integer units (credits, cents, micro-USD); scale by integer ratios and
divide with `//` or `divmod`, saying which way the remainder goes. `Decimal` built from strings
or integers is exact and allowed, and so is a division with a `Decimal` operand.

Judged: the value assigned (`=`, annotated, augmented, `:=`) to a money-named name, `obj.attr`
or `name[key]`; a keyword argument with a money name; what a money-named function returns; the
default of a money-named parameter; and any arithmetic that combines a money-named operand with
a float, whatever receives the result (`return amount_credits * 0.75` in any function). A local that holds a float (assigned from one, or a
parameter annotated `float`) makes a money expression that uses it a float too, within its
function; module-level names count in every function that does not rebind them. A file libcst
cannot parse is not judged.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable

import libcst as cst
from pydantic import Field

from cogni_review import rule
from cogni_review.gate import TEST_PATHS, FileGateOptions
from cogni_review.model import Violation
from cogni_review.source import SourceFile

MONEY_NAMES = ("*credits*", "*cents*", "*_micro", "*micro_usd*", "amount*", "*_amount", "balance*")
FLOAT_CALLS = {"float": "float()", "builtins.float": "float()", "round": "round()", "builtins.round": "round()"}
DECIMALS = {"Decimal", "decimal.Decimal"}
TEXT_CALLS = {"str", "repr", "format"}
MONEY_PRESERVING = {"int", "abs", "min", "max", "sum"}
ADVICE = {
    "float()": "keep integer units",
    "round()": "use // or divmod and say which way it rounds",
    "true division": "use // or integer ratios",
}


class Options(FileGateOptions):
    names: tuple[str, ...] = Field(MONEY_NAMES, description="money names: fnmatch patterns, matched case-insensitively")
    exclude: tuple[str, ...] = TEST_PATHS

    @cached_property
    def money(self) -> re.Pattern[str] | None:
        patterns = "|".join(fnmatch.translate(name) for name in self.names)
        return re.compile(patterns, re.IGNORECASE) if patterns else None

    def is_money(self, name: str) -> bool:
        return self.money is not None and self.money.match(rule.identifier(name)) is not None


@dataclass(frozen=True)
class FloatOrigin:
    """Where an expression gets a float from, and what to do instead."""

    node: cst.CSTNode
    what: str  # "true division", "float()", "'ratio', a float (true division)"
    advice: str
    origin: str = ""  # for a name holding a float: the construct it came from

    def through(self, name: cst.Name) -> FloatOrigin:
        origin = self.origin or self.what
        return FloatOrigin(name, f"{name.value!r}, a float ({origin})", self.advice, origin)


class IntegerMoney(rule.Flow):
    hint = "keep money in integer units (credits, cents, micro-USD) and divide with // or divmod"

    def __init__(self, file: SourceFile, options: Options) -> None:
        super().__init__(file, options)
        self.scopes = rule.Scopes()  # local name -> its FloatOrigin, "decimal", or None
        self.decimals: set[int] = set()  # id(expression) of Decimal values
        self.not_loads: set[int] = set()  # names that are not variables: attributes, keywords
        self.as_text = 0  # how many text or truth values (f-strings, comparisons) enclose this node
        self.mixed: list[tuple[FloatOrigin, str]] = []  # money operands combined with a float

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.as_text += self.stops(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self.as_text -= self.stops(original_node)

    def leave_BinaryOperation(self, original_node: cst.BinaryOperation) -> None:
        """Money combined with a float is money computed with a float, whatever receives it."""
        money = self.money_operand(original_node.left) or self.money_operand(original_node.right)
        if not money or self.as_text:
            return
        found = self.flows.get(id(original_node.left)) or self.flows.get(id(original_node.right))
        decimal = id(original_node.left) in self.decimals or id(original_node.right) in self.decimals
        if type(original_node.operator) is cst.Divide and not decimal:
            found = FloatOrigin(original_node, "true division", ADVICE["true division"])
        if found is not None:
            self.mixed.append((found, money))

    def leave_Module(self, original_node: cst.Module) -> None:
        """Report money-with-float operations no assignment, return or argument reported already."""
        for found, money in self.mixed:
            self.report(found.node, money, f"{money!r} is combined with {found.what}; {found.advice}")

    def money_operand(self, node: cst.BaseExpression) -> str:
        """The money name an operand is, or is built from (`credits`, `self.amount_cents`,
        `balances[k]`, `-credits`, `(credits + fee)`, `int(credits)`); "" if none."""
        kind = type(node)
        if kind is cst.Name or kind is cst.Attribute:
            name = node.value if kind is cst.Name else node.attr.value
            return name if self.options.is_money(name) else ""
        if kind is cst.Subscript:
            return self.money_operand(node.value)
        if kind is cst.BinaryOperation:
            return self.money_operand(node.left) or self.money_operand(node.right)
        if kind is cst.UnaryOperation:
            return self.money_operand(node.expression)
        if kind is cst.Call and rule.dotted_name(node.func) in MONEY_PRESERVING and node.args:
            return self.money_operand(node.args[0].value)
        return ""

    def source(self, node: cst.CSTNode) -> FloatOrigin | None:
        kind = type(node)  # not isinstance: libcst's node classes are ABCs, and this runs per node
        if kind is cst.Float:
            return FloatOrigin(node, f"the float literal {node.value}", "use integer units")
        if kind is cst.Call:
            name = rule.dotted_name(node.func)
            if name in DECIMALS:
                self.decimals.add(id(node))
            return FloatOrigin(node, FLOAT_CALLS[name], ADVICE[FLOAT_CALLS[name]]) if name in FLOAT_CALLS else None
        if kind is cst.BinaryOperation:
            if id(node.left) in self.decimals or id(node.right) in self.decimals:
                self.decimals.add(id(node))
            elif type(node.operator) is cst.Divide:
                return FloatOrigin(node, "true division", ADVICE["true division"])
        if kind is cst.Name and id(node) not in self.not_loads:
            held = self.scopes.lookup(node.value)[1]
            if held == "decimal":
                self.decimals.add(id(node))
            return held.through(node) if type(held) is FloatOrigin else None
        return None

    def stops(self, node: cst.CSTNode) -> bool:
        """Text or truth, whatever floats went into it: f-strings, str(), format(), comparisons."""
        kind = type(node)
        if kind is cst.Call:
            name = rule.dotted_name(node.func)
            return name in TEXT_CALLS or name.endswith(".format")
        return kind is cst.FormattedString or kind is cst.Comparison

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.not_loads.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.not_loads.add(id(node.keyword))

    def visit_scope(self, node: cst.FunctionDef | cst.ClassDef | cst.Lambda) -> None:
        if not isinstance(node, cst.Lambda):
            self.not_loads.add(id(node.name))
        self.scopes.enter(node)

    def leave_scope(self, original_node: cst.FunctionDef | cst.ClassDef | cst.Lambda) -> None:
        self.scopes.leave()

    visit_FunctionDef = visit_ClassDef = visit_Lambda = visit_scope
    leave_FunctionDef = leave_ClassDef = leave_Lambda = leave_scope

    def leave_Parameters(self, original_node: cst.Parameters) -> None:
        for param in rule.params(original_node):
            name, kind = param.name.value, _annotated(param.annotation)
            default = self.flows.get(id(param.default)) if param.default else None
            if default and self.options.is_money(name):
                self.judge(default, name, f"{name!r} defaults to a value computed")
            held = FloatOrigin(param, "annotated float", "take an integer amount") if kind == "float" else default
            self.bind(name, held, decimal=kind == "decimal")

    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self.assign(target.target, original_node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self.assign(original_node.target, original_node.value, _annotated(original_node.annotation))

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        self.assign(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        target, divides = original_node.target, isinstance(original_node.operator, cst.DivideAssign)
        found = FloatOrigin(original_node, "/=", "use //= or integer ratios") if divides else self.flows.get(id(original_node.value))
        name = _target_name(target)
        if found and self.options.is_money(name):
            self.judge(found, name, f"{name!r} is {'divided' if divides else 'computed'}")
        elif found and isinstance(target, cst.Name):
            self.bind(name, found)

    def leave_Call(self, original_node: cst.Call) -> None:
        for arg in original_node.args:
            found = self.flows.get(id(arg.value))
            if found and arg.keyword is not None and self.options.is_money(arg.keyword.value):
                self.judge(found, arg.keyword.value, f"{arg.keyword.value!r} is passed a value computed")

    def leave_Return(self, original_node: cst.Return) -> None:
        function = self.scopes.function
        found = self.flows.get(id(original_node.value)) if original_node.value else None
        if found and function and self.options.is_money(function.name):
            self.judge(found, function.name, f"{function.name!r} returns a value computed")

    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression, annotation: str = "") -> None:
        for one, its_value in _pairs(target, value):
            name, found = _target_name(one), self.flows.get(id(its_value))
            if found and self.options.is_money(name):
                self.judge(found, name, f"{name!r} is computed")
            if isinstance(one, cst.Name):
                if found is None and annotation == "float":
                    found = FloatOrigin(one, "annotated float", "annotate it int")
                self.bind(name, found, decimal=annotation == "decimal" or id(its_value) in self.decimals)

    def bind(self, name: str, found: FloatOrigin | None, decimal: bool = False) -> None:
        self.scopes.bind(name, found or ("decimal" if decimal else None))

    def judge(self, found: FloatOrigin, name: str, subject: str) -> None:
        self.report(found.node, name, f"{subject} with {found.what}; {found.advice}")


def _annotated(annotation: cst.Annotation | None) -> str:
    name = rule.dotted_name(annotation.annotation) if annotation else ""
    return "float" if name in ("float", "builtins.float") else "decimal" if name in DECIMALS else ""


def _target_name(target: cst.BaseExpression) -> str:
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Attribute):
        return target.attr.value
    if isinstance(target, (cst.Subscript, cst.StarredElement)):
        return _target_name(target.value)
    return ""


def _pairs(target: cst.BaseExpression, value: cst.BaseExpression) -> Iterable[tuple[cst.BaseExpression, cst.BaseExpression]]:
    """(target, value) pairs: `a, b = x, y` pairs element-wise; other unpacking gives each target the whole value."""
    if isinstance(target, (cst.Tuple, cst.List)):
        elements = [e.value for e in target.elements]
        values = [e.value for e in value.elements] if isinstance(value, (cst.Tuple, cst.List)) else []
        if len(values) == len(elements) and not any(isinstance(e, cst.StarredElement) for e in value.elements):
            for one, its_value in zip(elements, values):
                yield from _pairs(one, its_value)
        else:
            for one in elements:
                yield from _pairs(one, value)
    else:
        yield target, value


def candidates(options: Options) -> str | tuple[str, ...] | None:
    """Files naming money at all: the longest literal part of each name pattern, any case."""
    cores = [max(re.split(r"[*?]", re.sub(r"\[[^\]]*\]", "*", name)), key=len) for name in options.names]
    if not all(cores):
        return None if cores else ()
    return "(?i:" + "|".join(map(re.escape, sorted(set(cores)))) + ")"


def scan(file: SourceFile, options: Options) -> Iterable[Violation]:
    return rule.run(IntegerMoney, file, options)


EXAMPLES = {
    "passes": [
        ("billing/pricing.py", "credits = usd_micro * CREDITS_PER_USD // 1_000_000"),
        ("billing/pricing.py", 'fee_cents = Decimal(total_cents) * Decimal("0.029")'),
        ("billing/pricing.py", "share = total / parts"),
        ("billing/pricing.py", "def credits_for(usd_micro: int) -> int:\n    return usd_micro // 10_000"),
    ],
    "fails": [
        ("billing/pricing.py", "amount_cents = total * 0.029  # <-"),
        ("billing/pricing.py", "credits = usd_micro / 10_000  # <-"),
        ("billing/pricing.py", "def grant(usd, rate):\n    ratio = usd / rate\n    credits = usd * ratio  # <-"),
        ("billing/pricing.py", "def credits_for(usd: int) -> int:\n    return round(usd * 100)  # <-"),
        ("billing/pricing.py", "ledger.append(account, amount_micro=float(x))  # <-"),
        ("billing/pricing.py", "def _split(amount_credits):\n    return amount_credits * 0.75  # <-"),
    ],
}
