"""A confined function called, or referenced, outside the modules allowed to call it.

Why: some functions are the only door to an invariant: `credit_account` and `mint_lot` are the
single minting path of the ledger. Once a second module calls them, credits can be minted
without the checks that module skips, and nobody reviewing the ledger sees it.

Instead: go through the module that owns the door (the settlement service, not the ledger
itself); if a new caller is truly needed, add its file to the function's allowed globs, where
the change is reviewed as a change of policy.

Names match the last part of the callee: `credit_account(...)`, `ledger.credit_account(...)`
and `billing.ledger.credit_account(...)` all count, as does a reference without a call
(`hooks.append(credit_account)`, `getattr` aside): it is a way to call it from elsewhere.
Its definition (`def credit_account`), keyword names, assignment targets and a plain import
do not; an import that renames it (`import ... as mint`) does, since calls through the new
name cannot be seen. Other languages are not judged by this rule; a file libcst cannot parse
is not judged.
"""

from __future__ import annotations

from typing import Iterable

import libcst as cst
from pydantic import Field, field_validator

from cogni_review import globs, rule
from cogni_review.confinement import where
from cogni_review.gate import TEST_PATHS, FileGateOptions
from cogni_review.globs import matches_any
from cogni_review.model import Violation
from cogni_review.source import SourceFile


class Options(FileGateOptions):
    glob_fields = FileGateOptions.glob_fields + ("calls",)
    calls: dict[str, tuple[str, ...]] = Field({}, description="map of function or method name -> globs of the files allowed to call it")
    exclude: tuple[str, ...] = TEST_PATHS

    @field_validator("calls")
    @classmethod
    def _identifiers(cls, calls: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, allowed in calls.items():
            if not name.isidentifier():
                raise ValueError(f"{name!r} is not a function name (give the bare name, e.g. 'mint_lot')")
            globs.validate(allowed)
        return calls


class CallConfinement(rule.Rule):
    hint = "call it through the module that owns it, or add this file to its allowed globs in the spec"

    def __init__(self, file: SourceFile, options: Options) -> None:
        super().__init__(file, options)
        self.confined = {name for name, allowed in options.calls.items() if not matches_any(allowed, file.path)}
        self.not_uses: set[int] = set()  # names that only define or label: def, keyword, target

    def visit_Call(self, node: cst.Call) -> None:
        callee = node.func.attr if isinstance(node.func, cst.Attribute) else node.func
        name = rule.identifier(callee.value) if isinstance(callee, cst.Name) else ""
        if name in self.confined:
            self.not_uses.add(id(callee))
            self.flag(node, name, "called")

    def visit_Name(self, node: cst.Name) -> None:
        name = rule.identifier(node.value)
        if name in self.confined and id(node) not in self.not_uses:
            self.flag(node, name, "referenced")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.not_uses.add(id(node.name))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.not_uses.add(id(node.name))

    def visit_Param(self, node: cst.Param) -> None:
        self.not_uses.add(id(node.name))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.not_uses.add(id(node.keyword))

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.ignore_target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.ignore_target(node.target)

    def ignore_target(self, target: cst.BaseExpression) -> None:
        name = target.attr if isinstance(target, cst.Attribute) else target
        self.not_uses.add(id(name))

    def visit_Import(self, node: cst.Import) -> bool:
        self.renamed(node.names)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if not isinstance(node.names, cst.ImportStar):
            self.renamed(node.names)
        return False

    def renamed(self, aliases: Iterable[cst.ImportAlias]) -> None:
        for alias in aliases:
            name = rule.dotted_name(alias.name).rpartition(".")[2]
            if name in self.confined and alias.asname is not None:
                self.flag(alias, name, "imported under another name")

    def flag(self, node: cst.CSTNode, name: str, how: str) -> None:
        patterns = self.options.calls[name]
        allowed = f"allowed only in {where(patterns)}" if patterns else "allowed nowhere"
        self.report(node, name, f"{name} {how} outside the modules allowed to call it ({allowed})")


def candidates(options: Options) -> tuple[str, ...]:
    return tuple(options.calls)


def scan(file: SourceFile, options: Options) -> Iterable[Violation]:
    if not any(not matches_any(allowed, file.path) for allowed in options.calls.values()):
        return []
    return rule.run(CallConfinement, file, options)


EXAMPLES = {
    "with": {"calls": {"credit_account": ["billing/ledger.py", "billing/settlement.py"]}},
    "passes": [
        ("billing/settlement.py", "ledger.credit_account(conn, account, credits, reason)"),
        ("billing/ledger.py", "def credit_account(conn, account, credits, reason):\n    ..."),
        ("billing/api.py", "settlement.settle(conn, attempt_id)  # never credit_account() here"),
        ("billing/api.py", "credit_account_count = 0"),
    ],
    "fails": [
        ("billing/api.py", "ledger.credit_account(conn, account, 100, 'gift')  # <-"),
        ("billing/admin.py", "from billing.ledger import credit_account\ncredit_account(conn, a, 5, 'fix')  # <-"),
        ("billing/jobs.py", "HANDLERS = {'grant': ledger.credit_account}  # <-"),
    ],
}
