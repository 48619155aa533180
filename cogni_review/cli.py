"""argv -> spec -> engine -> reporter -> exit code. The only broad `except` lives here.

Exit codes: 0 every gate passed (or was neutral), 1 a gate failed, 2 usage, config or git error
(the message says what to do), 3 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from cogni_review import __version__, catalog, config, engine, explain
from cogni_review.errors import CogniError, ConfigError
from cogni_review.model import Report
from cogni_review.starter import TEMPLATE
from cogni_review.workspace import Workspace

FORMATS = ("text", "json", "github", "sarif")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    top, common = _common(defaults=True), _common(defaults=False)
    parser = argparse.ArgumentParser(prog="cogni-review", parents=[top],
                                     description="Governance gate for DAO-run codebases.")
    parser.add_argument("--version", action="version", version=f"cogni-review {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    audit = sub.add_parser("audit", parents=[common], help="every finding in the working tree or a revision")
    audit.add_argument("--rev", help="audit this committed revision instead of the working tree")
    audit.add_argument("--list-suppressions", action="store_true",
                       help="list every inline suppression with its gate, place and reason, and exit")
    sub.add_parser("baseline", parents=[common],
                   help="accept every current finding: write .cogni/baseline.json (only new findings fail from then on)")
    check = sub.add_parser("check", parents=[common], help="only the findings a change introduces")
    check.add_argument("--base", help="the revision the change is judged against (its policy is enforced)")
    check.add_argument("--head", help="the revision with the change (default HEAD)")
    check.add_argument("--staged", action="store_true", help="judge the staged change against HEAD")
    check.add_argument("--two-dot", action="store_true", help="diff base..head directly, not from their merge base")
    validate = sub.add_parser("validate-spec", parents=[common], help="validate a spec; exit 0 valid, 2 invalid")
    validate.add_argument("file", nargs="?", help=f"the spec file (default {config.DEFAULT_SPEC})")
    init = sub.add_parser("init", parents=[common], help="write a commented starter spec")
    init.add_argument("--path", help=f"where to write it (default {config.DEFAULT_SPEC})")
    explain_cmd = sub.add_parser("explain", parents=[common], help="what a gate flags, why, and how to fix it")
    explain_cmd.add_argument("gate", help="a gate type, e.g. wallet-address-literals")
    sub.add_parser("list", parents=[common], help="the gates this tool implements")
    docs_cmd = sub.add_parser("docs", parents=[common], help="print the gate reference (Markdown), or refresh it in a README")
    docs_cmd.add_argument("--write", metavar="README", help="replace the generated section of this file")
    sub.add_parser("demo", parents=[common], help="watch the gate catch a real violation in the bundled billing service")
    return parser.parse_args(argv)


def _common(defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name. Only the top level holds the
    defaults, so `cogni-review --repo X audit` and `cogni-review audit --repo X` mean the same."""
    common = argparse.ArgumentParser(add_help=False, argument_default=None if defaults else argparse.SUPPRESS)

    def option(*names: str, default=None, **kw) -> None:
        common.add_argument(*names, **kw, **({"default": default} if defaults else {}))

    option("--spec", help=f"the spec file (default {config.DEFAULT_SPEC} in the repository)")
    option("--repo", default=".", help="the repository (default: the current directory)")
    option("--format", choices=FORMATS, default="text", help="output format (default text)")
    option("--sarif", metavar="FILE", help="also write SARIF 2.1.0 to FILE")
    option("--outputs", metavar="FILE", help="append status=, violations= and sarif-file= lines to FILE (a CI step's outputs)")
    option("--fail-on", choices=("fail", "neutral"), default="fail", help="exit 1 on a failed gate (default), or on a neutral one too")
    option("--debug", action="store_true", default=False, help="show tracebacks of internal errors")
    return common


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as e:  # argparse has printed its message
        return 0 if e.code == 0 else 2
    try:
        return COMMANDS[args.command](args)
    except CogniError as e:
        print(f"cogni-review: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - the one place that turns a crash into exit 3
        if args.debug:
            traceback.print_exc()
        print(f"cogni-review: internal error: {type(e).__name__}: {e} (rerun with --debug for details)", file=sys.stderr)
        return 3


def run_audit(args: argparse.Namespace) -> int:
    workspace = Workspace.open(args.repo, args.spec)
    report = workspace.audit(args.rev)
    if args.list_suppressions:
        from cogni_review.reporters.findings import printable

        for s in report.suppressions:
            print(printable(f"{s.path}:{s.line}:{s.location.column}: allow {s.gate or '?'} -- {s.reason or '(no reason)'}"))
        print(f"{len(report.suppressions)} suppression(s)")
        return 0
    return emit(report, args)


def run_baseline(args: argparse.Namespace) -> int:
    path, count = Workspace.open(args.repo, args.spec).write_baseline()
    print(f"wrote {path} with {count} accepted finding(s); commit it, and only new findings will fail")
    return 0


def run_check(args: argparse.Namespace) -> int:
    if args.staged == bool(args.base):
        raise CogniError("check needs exactly one of --base REV (a pull request, a push) or --staged (a commit)")
    if args.staged and args.head:
        raise CogniError("--head goes with --base, not with --staged")
    workspace = Workspace.open(args.repo, args.spec)
    report = workspace.check_staged() if args.staged else workspace.check(args.base, args.head, two_dot=args.two_dot)
    return emit(report, args)


def emit(report: Report, args: argparse.Namespace) -> int:
    from cogni_review.reporters import REPORTERS

    sys.stdout.write(REPORTERS[args.format](report))
    if args.sarif:
        write(Path(args.sarif), REPORTERS["sarif"](report))
    if args.outputs:
        append(Path(args.outputs), f"status={report.status}\nviolations={len(report.violations)}\nsarif-file={args.sarif or ''}\n")
    if args.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        from cogni_review.reporters import github

        append(Path(os.environ["GITHUB_STEP_SUMMARY"]), github.render_summary(report))
    return report.exit_code(args.fail_on)


def write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise CogniError(f"{path}: cannot write: {e.strerror}") from None


def append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
    except OSError as e:
        raise CogniError(f"{path}: cannot write: {e.strerror}") from None


def run_validate(args: argparse.Namespace) -> int:
    path = Path(args.file or args.spec or Path(args.repo) / config.DEFAULT_SPEC)
    loaded = config.load(path)
    gates = catalog.resolve(loaded, catalog.builtins())
    described = ", ".join(f"{g.id} ({g.type}{'' if g.plugin else ', not implemented here'})" for g in gates)
    print(f"{path}: valid; gates: {described or 'none'}")
    return 0


def run_init(args: argparse.Namespace) -> int:
    path = Path(args.path or args.spec or Path(args.repo) / config.DEFAULT_SPEC)
    if path.exists():
        raise ConfigError(f"{path}: already exists; not overwriting it (validate it with `cogni-review validate-spec`)")
    write(path, TEMPLATE)
    print(f"wrote {path}; edit it, then run `cogni-review audit`")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    workspace = Workspace.open(args.repo, args.spec)
    resolved, where = [], ""
    if workspace.spec.path.is_file():  # this repository's options in force, when it has a spec
        resolved, where = workspace.gates(config.load(workspace.spec.path)), "this repository"
    sys.stdout.write(explain.render(catalog.builtins(), args.gate, resolved, where))
    return 0


def run_list(args: argparse.Namespace) -> int:
    for file in catalog.builtins().values():
        print(f"{file.type:28} {file.plugin.summary}")
    return 0


def run_docs(args: argparse.Namespace) -> int:
    from cogni_review import docs

    plugins = [file.plugin for file in catalog.builtins().values()]
    if not args.write:
        sys.stdout.write(docs.reference(plugins))
        return 0
    path = Path(args.write)
    try:
        current = path.read_text(encoding="utf-8")
        updated = docs.update(current, plugins)
    except (OSError, ValueError) as e:
        raise CogniError(f"{path}: {e}") from None
    if updated != current:
        write(path, updated)
    print(f"{path}: gate reference {'updated' if updated != current else 'already current'}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from cogni_review import demo

    return demo.run(sys.stdout)


COMMANDS = {
    "demo": run_demo,
    "docs": run_docs,
    "audit": run_audit,
    "baseline": run_baseline,
    "check": run_check,
    "validate-spec": run_validate,
    "init": run_init,
    "explain": run_explain,
    "list": run_list,
}
