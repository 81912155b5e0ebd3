"""Activity URLs wrap between their parts (after / ? & # =), escaped."""

from __future__ import annotations

from pavior.web.display import url_with_breaks


def test_breaks_after_url_separators_only() -> None:
    html = url_with_breaks("https://shop.example/pricing/enterprise?plan=pro&seats=10#faq")
    assert html == (
        "https:/<wbr>/<wbr>shop.example/<wbr>pricing/<wbr>enterprise?<wbr>plan=<wbr>"
        "pro&amp;<wbr>seats=<wbr>10#<wbr>faq"
    )


def test_everything_else_is_escaped() -> None:
    html = url_with_breaks('https://x.example/<script>alert("1")</script>')
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;1&quot;)&lt;/<wbr>script&gt;" in html
