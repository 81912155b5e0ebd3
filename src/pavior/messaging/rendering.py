"""Message bodies: Markdown -> sanitised HTML, and a plain-text twin (SPEC §12, §13).

markdown-it-py runs with raw HTML off (``<script>`` in a body comes out as
text), then nh3 keeps only the tags Markdown makes and only http, https and
mailto links, each with rel="noopener noreferrer". The browser inserts nothing
else from the server as HTML.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).disable("image")

ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "ul", "ol", "li", "code", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def render_html(body: str) -> str:
    """The body's Markdown as HTML that is safe to insert into any page."""
    raw = _md.render(body or "")
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.S)


def render_text(body: str) -> str:
    """A plain-text form of the body (the email's text part, a preview line)."""
    safe = render_html(body)

    def link(m: re.Match[str]) -> str:
        href, text = html.unescape(m.group(1)), _TAG.sub("", m.group(2))
        text = html.unescape(text)
        return text if href in (text, f"mailto:{text}") else f"{text} ({href})"

    out = _LINK.sub(link, safe)
    out = re.sub(r"<li>", "- ", out)
    out = re.sub(r"<br\s*/?>", "\n", out)
    out = re.sub(r"</(p|li|ul|ol|blockquote)>", "\n", out)
    out = html.unescape(_TAG.sub("", out))
    return re.sub(r"\n{3,}", "\n\n", out).strip()
