"""The demo the README's first command runs: a real finding caught and explained."""

from __future__ import annotations

import io

from cogni_review import demo


def test_demo_catches_both_planted_violations_and_explains() -> None:
    out = io.StringIO()
    assert demo.run(out) == 0
    text = out.getvalue()
    assert "   cogni-review: PASS" in text  # the service as shipped is clean
    assert "billing/payments.py:" in text and "wallet-address-literals hard-coded address " + demo.TREASURY in text
    assert "billing/cli.py:" in text and "widget-payment-reason payment reason 'credits_purchase' outside its approved rails" in text
    assert "Why: the DAO's receiving address" in text
    assert text.endswith("cogni-review demo: the gate caught both\n")
