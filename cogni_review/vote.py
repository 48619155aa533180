"""The "Propose a DAO vote to merge" link a failing check of a DAO's repository carries.

A DAO can merge a change its gates refuse, by vote. When the spec declares the DAO's contracts
(`governance.{dao_contract, plugin_contract, signal_contract, chain_id, base_url}`, or the older
`cogni_dao.*`), a failing pull request's report links to the proposal page:

    {base_url}/merge-change?dao=…&plugin=…&signal=…&chainId=…&repoUrl=…&pr=…&action=merge&target=change

Every value is URL-encoded exactly once (the predecessor encoded the repository URL twice). The
repository is the one the pull request targets (the predecessor used the fork's). Placeholders
(`DAO_ADDRESS_PLACEHOLDER`) and a missing proposal host give no link, and the report says why.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from cogni_review.config import Spec

FIELDS = {"dao": "dao_contract", "plugin": "plugin_contract", "signal": "signal_contract", "chainId": "chain_id"}
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def merge_link(spec: Spec, repo_url: str, pr: int) -> tuple[str, str]:
    """(the link, "") or ("", why there is none); ("", "") when the spec declares no DAO."""
    dao = spec.dao()
    if not any(key in dao for key in (*FIELDS.values(), "base_url")):
        return "", ""
    missing = [key for key in (*FIELDS.values(), "base_url") if key not in dao]
    if missing:
        return "", f"the spec's governance (or cogni_dao) block has no {', '.join(missing)}"
    bad = [key for key in ("dao_contract", "plugin_contract", "signal_contract") if not ADDRESS.fullmatch(dao[key])]
    if not dao["chain_id"].isdigit():
        bad.append("chain_id")
    if bad:
        return "", "not filled in: " + ", ".join(f"{key} is {dao[key]!r}" for key in bad)
    base = dao["base_url"] if "://" in dao["base_url"] else f"https://{dao['base_url']}"
    if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).netloc:
        return "", f"base_url {dao['base_url']!r} is not an http(s) address"
    query = {name: dao[key] for name, key in FIELDS.items()}
    query.update(repoUrl=repo_url, pr=str(pr), action="merge", target="change")
    return f"{base.rstrip('/')}/merge-change?{urlencode(query)}", ""
