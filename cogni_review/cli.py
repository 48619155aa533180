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
from cogni_review.workspace import PullRequest, Workspace

FORMATS = ("text", "json", "github", "sarif")


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line, with a suggestion, not the whole usage."""

    def error(self, message: str) -> None:
        hint = _suggestion(message, self)
        self.exit(2, f"cogni-review: {message}{hint}; see `{self.prog} --help`\n")


def _suggestion(message: str, parser: argparse.ArgumentParser) -> str:
    """` (did you mean 'audit'?)` for a misspelt command or option, else ""."""
    import difflib
    import re

    wrong = re.search(r"invalid choice: '([^']*)'|unrecognized arguments: (\S+)", message)
    if not wrong:
        return ""
    word = wrong.group(1) or wrong.group(2)
    known = [c for a in parser._actions for c in (getattr(a, "choices", None) or {})]
    known += [o for a in parser._actions for o in a.option_strings]
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    top, common = _common(defaults=True), _common(defaults=False)
    parser = Parser(prog="cogni-review", parents=[top], description="Governance gate for DAO-run codebases.")
    parser.add_argument("--version", action="version", version=f"cogni-review {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
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
    check.add_argument("--title", default="", help="the pull request's title (evidence for ai-rule gates)")
    check.add_argument("--body", default="", help="the pull request's description (evidence for ai-rule gates)")
    check.add_argument("--pr", type=_pr_number, metavar="N", help="the pull request's number (for the vote-to-merge link)")
    check.add_argument("--repo-url", type=_repo_url, metavar="URL",
                       help="the repository the pull request targets, e.g. https://github.com/org/repo (for the vote-to-merge link)")
    check.add_argument("--pushed", action="store_true",
                       help="judge what a push sends (pre-commit's PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF); "
                            "without that range, audit the committed HEAD")
    check.add_argument("--fetch", action="store_true",
                       help="fetch --base from origin when the clone does not have it (a force-pushed-away commit)")
    history = sub.add_parser("history", parents=[common],
                             help="which commit introduced each finding, and which removed it (first-parent by default)")
    history.add_argument("--since", metavar="REV", help="only the commits after REV (default: the whole history)")
    history.add_argument("--all", action="store_true", help="every commit, not only the first-parent line")
    history.add_argument("--head", default="HEAD", help="walk up to this revision (default HEAD)")
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


def _pr_number(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a pull request number: {text!r}")
    return int(text)


def _repo_url(text: str) -> str:
    if not text.startswith(("https://", "http://")) or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"not an http(s) address: {text!r}")
    return text


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
    option("--verbose", action="store_true", default=False, help="list every file a note is about, not a count")
    option("--color", choices=("auto", "always", "never"), default="auto",
           help="colour the text format: auto (on a terminal, unless NO_COLOR is set), always or never")
    return common


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as e:  # argparse has printed its message
        return 0 if e.code == 0 else 2
    try:
        return COMMANDS[args.command](args)
    except CogniError as e:
        return failed(args, 2, str(e))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        _quiet_stdout()
        return 0
    except Exception as e:  # noqa: BLE001 - the one place that turns a crash into exit 3
        if args.debug:
            traceback.print_exc()
        return failed(args, 3, f"internal error: {type(e).__name__}: {e} (rerun with --debug for details)")


def failed(args: argparse.Namespace, code: int, message: str) -> int:
    """A run that could not judge (exit 2 or 3): said on stderr, and in CI made visible where
    people look: an error annotation, the job summary with the fix, `status=error`."""
    print(f"cogni-review: {message}", file=sys.stderr)
    if getattr(args, "format", None) == "github" or os.environ.get("GITHUB_ACTIONS") == "true":
        from cogni_review.reporters import github

        print(github.command("error", {"title": "cogni-review could not run"}, message))
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            append(Path(os.environ["GITHUB_STEP_SUMMARY"]), github.render_failure(message, code))
    if getattr(args, "outputs", None):
        append(Path(args.outputs), f"status=error\nviolations=0\nsarif-file=\n")
    return code


def _quiet_stdout() -> None:
    """After a closed pipe, point stdout at nothing so the interpreter's final flush is silent."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError:
        pass


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


def run_history(args: argparse.Namespace) -> int:
    from cogni_review import history
    from cogni_review.reporters.history import RENDERERS

    workspace = Workspace.open(args.repo, args.spec)
    report = history.walk(workspace._repo(), workspace.spec, since=args.since, every=args.all, head=args.head)
    sys.stdout.write(RENDERERS[args.format](report))
    if args.sarif:
        write(Path(args.sarif), RENDERERS["sarif"](report))
    return report.exit_code()


def run_baseline(args: argparse.Namespace) -> int:
    path, count = Workspace.open(args.repo, args.spec).write_baseline()
    print(f"wrote {path} with {count} accepted finding(s); commit it, and only new findings will fail")
    return 0


def run_check(args: argparse.Namespace) -> int:
    if sum((args.staged, bool(args.base), args.pushed)) != 1:
        raise CogniError("check needs exactly one of --base REV (a pull request, a push), --staged (a commit) "
                         "or --pushed (a pre-push hook)")
    if args.head and not args.base:
        raise CogniError("--head goes with --base")
    if not args.base and (args.title or args.body or args.pr or args.repo_url):
        raise CogniError("--title, --body, --pr and --repo-url describe a pull request: they go with --base")
    workspace = Workspace.open(args.repo, args.spec)
    if args.staged:
        report = workspace.check_staged()
    elif args.pushed:
        report = workspace.check_pushed(os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF"))
    else:
        pull_request = PullRequest(args.title, args.body, args.pr, args.repo_url or "")
        report = workspace.check(args.base, args.head, two_dot=args.two_dot, fetch=args.fetch, pull_request=pull_request)
    return emit(report, args)


def emit(report: Report, args: argparse.Namespace) -> int:
    from cogni_review.reporters import REPORTERS, text

    if not args.verbose:
        report = report.summarized()
    if args.format == "text" and _colour(args):
        sys.stdout.write(text.render(report, colour=True))
    else:
        sys.stdout.write(REPORTERS[args.format](report))
    if args.sarif:
        write(Path(args.sarif), REPORTERS["sarif"](report))
    if args.outputs:
        append(Path(args.outputs), f"status={report.status}\nviolations={len(report.violations)}\nsarif-file={args.sarif or ''}\n")
    if args.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        from cogni_review.reporters import github

        append(Path(os.environ["GITHUB_STEP_SUMMARY"]), github.render_summary(report))
    return report.exit_code(args.fail_on)


def _colour(args: argparse.Namespace) -> bool:
    if args.color != "auto":
        return args.color == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


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
    path = Path(args.file) if args.file else Workspace.open(args.repo, args.spec).spec.path
    loaded = config.load(path)
    gates = catalog.resolve(loaded, catalog.builtins())
    described = ", ".join(f"{g.id} ({g.type}{'' if g.plugin else ', not implemented here'})" for g in gates)
    print(f"{path}: valid; gates: {described or 'none'}")
    return 0


def run_init(args: argparse.Namespace) -> int:
    """A spec for the layout the repository has (found from any folder in it), or the starter
    in a repository with no code yet. Never overwrites."""
    from cogni_review import onboarding

    workspace = Workspace.open(args.repo, args.spec)
    path = Path(args.path) if args.path else workspace.spec.path
    if path.exists() or path.is_symlink():
        raise ConfigError(f"{path}: already exists; not overwriting it (validate it with `cogni-review validate-spec`)")
    snapshot = workspace.snapshot()
    found = onboarding.survey(snapshot.paths(), snapshot.read)
    write(path, onboarding.render(found, workspace.root.name) if found.files else TEMPLATE)
    said = f"a spec for the layout found in {found.files} code file(s)" if found.files else "the starter spec"
    print(f"wrote {path}: {said}; review it, then run `cogni-review audit`")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    """The gate's page, with the options in force in this repository when its spec loads; a
    spec that does not load is said, not fatal: the page is still worth reading."""
    resolved, where = [], ""
    try:
        workspace = Workspace.open(args.repo, args.spec)
        if workspace.spec.path.is_file():
            resolved, where = workspace.gates(workspace.current_policy()), "this repository"
    except CogniError as e:
        print(f"cogni-review: the options in force are not shown: {e}", file=sys.stderr)
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
    "history": run_history,
    "check": run_check,
    "validate-spec": run_validate,
    "init": run_init,
    "explain": run_explain,
    "list": run_list,
}
