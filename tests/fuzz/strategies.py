"""Strategies for hostile input: bytes in any encoding and size, forms with fields missing,
duplicated or malformed, wrong content types, garbage query strings.

Sizes reach ~100 KB without asking hypothesis for 100 KB of choices: a short drawn chunk is
repeated up to a drawn length (hypothesis keeps its buffers small).
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import yaml
from hypothesis import strategies as st

MAX_BYTES = 100_000
ENCODINGS = ("utf-8", "latin-1", "utf-16", "utf-16-le", "cp1252", "utf-8-bom")
CONTENT_TYPES = (
    None, "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-16",
    "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=zz",
    "application/json", "text/plain", "text/csv", "application/xml",
    "application/octet-stream", "x/y; charset=klingon", "", ";;;",
)

# Characters that break naive code: NUL and controls, bidi marks, a lone surrogate, the
# replacement character, combining marks, astral emoji, Devanagari, Bengali, separators.
NASTY = ("\x00", "\x1b", "\r\n", "\u202e", "\ud800", "\ufffd", "\u0301", "\U0001f4f1",
         "\u0928\u092e\u0938\u094d\u0924\u0947", "\u09ac\u09be", "*", "#", "%", "&", "=",
         ";", ",", '"', "'", "<", ">", "\\", "\u2028", "\ufeff")


def encode(text: str, encoding: str) -> bytes:
    """``text`` as bytes; lone surrogates become invalid UTF-8, unmappable characters '?'."""
    if encoding == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if encoding == "utf-8":
        return text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace")


nasty_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)),
                      max_size=8).map("".join)

# What a phone can type or a provider can post as one value (no lone surrogates: those
# cannot be sent as UTF-8; as invalid bytes they are in ``posts``).
def sendable(text: str) -> str:
    """``text`` with lone surrogates replaced, so that it can be posted as UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


typed_text = st.one_of(nasty_text, st.text(max_size=50)).map(sendable)


@st.composite
def sized(draw, unit: st.SearchStrategy, join, max_size: int = MAX_BYTES):
    """``unit`` repeated to a drawn length: mostly small, sometimes up to ``max_size``."""
    chunk = draw(unit)
    target = draw(st.one_of(st.integers(0, 200), st.integers(0, max_size)))
    if not chunk or target <= len(chunk):
        return chunk
    return join(chunk, target)


def _repeat(chunk, target):
    return (chunk * (target // len(chunk) + 1))[:target]


any_bytes = st.one_of(
    st.binary(max_size=64),
    st.builds(encode, st.one_of(st.text(max_size=40), nasty_text), st.sampled_from(ENCODINGS)),
)
big_bytes = sized(any_bytes, _repeat)
big_text = sized(st.one_of(st.text(max_size=20), nasty_text), _repeat, max_size=20_000)


def field_value(*plausible: str) -> st.SearchStrategy[str]:
    """A value for one form field: mostly something plausible, else garbage of any size."""
    garbage = st.one_of(nasty_text, st.text(max_size=30), big_text, st.integers().map(str),
                        st.just(""))
    if not plausible:
        return garbage
    return st.one_of(*[st.sampled_from(plausible)] * 3, garbage)


@st.composite
def form_pairs(draw, fields: dict[str, st.SearchStrategy[str]]) -> list[tuple[str, str]]:
    """Fields of a form as (name, value) pairs: each may be missing, given once or given
    again with another value; random extra fields; any order."""
    pairs: list[tuple[str, str]] = []
    for name, values in fields.items():
        times = draw(st.sampled_from((1, 1, 1, 1, 1, 1, 0, 2)))
        pairs += [(name, draw(values)) for _ in range(times)]
    pairs += draw(st.lists(st.tuples(st.one_of(st.text(max_size=10), st.sampled_from(
        tuple(fields) + ("", "a[]", "__proto__"))), nasty_text), max_size=3))
    return draw(st.permutations(pairs)) if len(pairs) > 1 else pairs


class Blob(bytes):
    """Bytes whose repr stays readable at 100 KB (hypothesis prints failing examples)."""

    def __repr__(self) -> str:
        shown = bytes(self[:300])
        return f"{shown!r}{'...' if len(self) > 300 else ''} ({len(self)} bytes)"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


@dataclass
class Post:
    """One request, as keyword arguments for the Flask test client."""

    body: bytes
    content_type: str | None
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Post(body={Blob(self.body)!r}, content_type={self.content_type!r}, "
                f"query={self.query!r})")

    def _repr_pretty_(self, printer, cycle) -> None:  # what hypothesis prints
        printer.text(repr(self))

    def send(self, client, path: str):
        url = f"{path}?{self.query}" if self.query else path
        kwargs = {"data": self.body, "headers": self.headers}
        if self.content_type is not None:
            kwargs["content_type"] = self.content_type
        return client.post(url, **kwargs)


def urlencoded(pairs: list[tuple[str, str]], encoding: str) -> bytes:
    if encoding == "utf-8-bom":
        encoding = "utf-8"
    errors = "surrogatepass" if encoding == "utf-8" else "replace"
    return urlencode(pairs, encoding=encoding, errors=errors).encode("ascii")


def multipart(pairs: list[tuple[str, str]], encoding: str, boundary: str = "fuzzb") -> bytes:
    parts = [b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\""
             + encode(name, encoding) + b"\"\r\n\r\n" + encode(value, encoding) + b"\r\n"
             for name, value in pairs]
    return b"".join(parts) + b"--" + boundary.encode() + b"--\r\n"


call_ids = st.uuids().map(lambda u: f"fz-{u.hex[:12]}")  # a new session or call each time
BIG_FORM = "text=" + "1*" * 50_000  # past the app's 64 KB MAX_CONTENT_LENGTH


query_garbage = st.one_of(
    st.just(""),
    st.text(max_size=30).map(lambda t: quote(t, safe="=&", errors="surrogatepass")),
    st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=4).map(
        lambda pairs: urlencode(pairs, errors="surrogatepass")),
    st.sampled_from(("%", "%zz", "a=%ff%fe", "=&=&", "secret", "secret=", "a=1&a=2")),
)


@st.composite
def posts(draw, fields: dict[str, st.SearchStrategy[str]], query: st.SearchStrategy[str] =
          query_garbage) -> Post:
    """A POST carrying the form ``fields`` (mostly well encoded) or any bytes at all."""
    how = draw(st.sampled_from(("form",) * 6 + ("multipart", "raw")))
    encoding = draw(st.sampled_from(("utf-8",) * 8 + ENCODINGS))
    if how == "raw":
        return Post(draw(big_bytes), draw(st.sampled_from(CONTENT_TYPES)), draw(query))
    pairs = draw(form_pairs(fields))
    if how == "multipart":
        boundary = draw(st.sampled_from(("fuzzb", "zz")))
        content_type = draw(st.sampled_from((f"multipart/form-data; boundary={boundary}",
                                             "multipart/form-data; boundary=other")))
        return Post(multipart(pairs, encoding, boundary), content_type, draw(query))
    content_type = draw(st.sampled_from(("application/x-www-form-urlencoded",) * 6
                                        + CONTENT_TYPES))
    return Post(urlencoded(pairs, encoding), content_type, draw(query))


# ---- YAML documents --------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12), nasty_text,
                    st.sampled_from(("menu", "input", "end", "action", "main.menu", "yes", "no",
                                     "{name}", "digits", "en", "hi", "bn", "Asia/Kolkata",
                                     "24h", "09:00", "twilio", "10/minute", "10.0.0.0/8")))
yaml_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(), st.sampled_from(
        ("type", "prompt", "options", "next", "label", "screens", "start", "home", "en",
         "ussd", "sms", "providers", "name", "kind", "timezone", "offsets"))),
        inner, max_size=4)), max_leaves=12)


@st.composite
def mutated(draw, document):
    """``document`` with one value replaced, removed or added somewhere inside it."""
    node, path = document, []
    while isinstance(node, dict | list) and node and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(node, key=str) if isinstance(node, dict)
                                   else range(len(node))))
        path.append(key)
        node = node[key]
    if not path:
        return draw(yaml_values)
    copy = deepcopy(document)
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(("replace", "replace", "delete", "add")))
    if action == "delete":
        del parent[path[-1]]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.one_of(st.text(max_size=8), st.integers()))] = draw(yaml_values)
    else:
        parent[path[-1]] = draw(yaml_values)
    return copy


def dump(document) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
