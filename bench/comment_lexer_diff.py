"""The comment lexer against tree-sitter on every JavaScript and TypeScript file of the corpora.

For each file the lexer reads whole, its comments must be exactly the comment nodes tree-sitter
finds (in a file with a syntax error, the nodes outside the error, which are what an audit
honours, must be among the lexer's, and the lexer's among all the nodes). A file the lexer gives
up on is counted, never compared: an audit parses it.

    python bench/comment_lexer_diff.py [--corpus ts|big|all]

Uses the corpora `audit_speed.py` fetched (under bench/.corpus); prints a JSON summary and every
disagreement, and exits 1 if there is one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import tree_sitter

from cogni_review import jslexer, regions
from cogni_review.source import SourceFile

CORPUS = Path(__file__).resolve().parent / ".corpus"
FOLDERS = {"ts": ("viem-2.57.20",), "big": ("big",), "all": ("viem-2.57.20", "big")}


def tree_sitter_comments(language: str, text: str) -> tuple[set, set]:
    """(every comment node, the comments an audit honours) as str spans."""
    honoured = {(r.start, r.end) for r in regions.analyse(language, text).regions}
    grammar, query = regions._grammar(language)
    skipped = 1 if text.startswith(regions._BOM) else 0
    data = regions._LINE_BREAKS[True].sub("\n", text[skipped:]).encode("utf-8", "surrogatepass")
    nodes = tree_sitter.QueryCursor(query).captures(tree_sitter.Parser(grammar).parse(data).root_node)
    spans = sorted((n.start_byte, n.end_byte - (data[n.end_byte - 1:n.end_byte] == b"\r"))
                   for n in nodes.get("comment", []))
    spans = regions._char_spans(data, spans) if len(data) != len(text) - skipped else spans
    return {(a + skipped, b + skipped) for a, b in spans}, honoured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(FOLDERS), default="all")
    args = parser.parse_args()
    tally: Counter = Counter()
    lexed_seconds = parsed_seconds = 0.0
    disagreements = []
    for folder in FOLDERS[args.corpus]:
        for path in sorted((CORPUS / folder).rglob("*")):
            language = regions.language_of(path.name)
            if language not in ("javascript", "typescript", "tsx") or ".git" in path.parts or not path.is_file():
                continue
            text = SourceFile(path.name, path.read_bytes()).text
            started = time.perf_counter()
            found = jslexer.comments(language, text, len(text))
            lexed_seconds += time.perf_counter() - started
            if found is None:
                tally["gave up"] += 1
                continue
            started = time.perf_counter()
            every, honoured = tree_sitter_comments(language, text)
            parsed_seconds += time.perf_counter() - started
            lexed = set(found)
            tally["read"] += 1
            if lexed == honoured:
                tally["agree"] += 1
            elif honoured <= lexed <= every:
                tally["agree outside syntax errors"] += 1
            else:
                disagreements.append({"file": str(path.relative_to(CORPUS)), "lexer only": sorted(lexed - every)[:5],
                                      "tree-sitter only": sorted(honoured - lexed)[:5]})
    print(json.dumps({"files": dict(tally), "disagreements": len(disagreements),
                      "lexer seconds": round(lexed_seconds, 2), "tree-sitter seconds (files read)": round(parsed_seconds, 2)},
                     indent=2))
    for d in disagreements:
        print(json.dumps(d))
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
