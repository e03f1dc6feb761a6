# -*- coding: utf-8 -*-
# Copyright: contributors to edgeops.k8s_network
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lossless Corefile parser and emitter.

CoreDNS reads its Corefile with the Caddy v1 lexer: whitespace-separated tokens, double-quoted
strings (``\\"`` is the only escape), ``#`` comments to the end of the line, ``{``/``}`` as tokens
of their own, one directive per line, blocks that may nest, snippets ``(name) { ... }`` and
``import``. This module follows those rules and keeps everything that is not a token
(whitespace, blank lines, comments) as *trivia* attached to the tokens, so that a tree that was
not modified emits the exact input again, byte for byte. Editing helpers lay out new nodes in
the indentation style of their neighbours.

Trivia ownership: a token's ``post`` is what follows it up to the end of its line (spaces and a
trailing comment) when the next token starts on a later line; everything from that line break
up to the next token (blank lines, comment lines, indentation) is the next token's ``pre``. So a
comment line belongs to the node below it, and a trailing comment to the line it ends.

Problems raise ``CorefileError`` whose ``code`` is a stable finding code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class CorefileError(ValueError):
    """A Corefile that cannot be read; ``code`` is the finding code, ``line`` 1-based or None."""

    def __init__(self, code, message, line=None):
        if line is not None:
            message = "line %d: %s" % (line, message)
        super(CorefileError, self).__init__(message)
        self.code = code
        self.message = message
        self.line = line


class Token(object):
    """One lexical token with the trivia around it."""

    __slots__ = ("text", "pre", "post", "line", "quoted")

    def __init__(self, text, pre="", post="", line=None, quoted=False):
        self.text = text
        self.pre = pre
        self.post = post
        self.line = line
        self.quoted = quoted

    @property
    def value(self):
        """The token as CoreDNS sees it: quotes removed, ``\\"`` unescaped."""
        if not self.quoted:
            return self.text
        inner = self.text[1:-1]
        out = []
        escaped = False
        for ch in inner:
            if escaped:
                if ch != '"':
                    out.append("\\")
                out.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            else:
                out.append(ch)
        if escaped:
            out.append("\\")
        return "".join(out)

    @property
    def starts_line(self):
        return "\n" in self.pre

    def comments(self):
        """Comment lines in this token's leading trivia, without the ``#``."""
        return [line.strip()[1:].strip() for line in self.pre.splitlines() if line.strip().startswith("#")]

    def __repr__(self):
        return "Token(%r, line=%r)" % (self.text, self.line)


# Deepest nesting of blocks the parser takes.
MAX_DEPTH = 32


def is_placeholder(value):
    """True when ``value`` holds an environment placeholder CoreDNS replaces at start-up."""
    return "{$" in value or "{%" in value


def quote(value):
    """Token text for ``value``: bare when CoreDNS would read it back unchanged, else quoted."""
    value = str(value)
    if value and not any(ch.isspace() or ch in '"#' for ch in value) and value not in ("{", "}"):
        return value
    return '"%s"' % value.replace('"', '\\"')


def _make(value):
    text = quote(value)
    return Token(text, quoted=text != value)


def tokenize(text):
    """Tokens of ``text`` with their trivia, and the trivia after the last token."""
    tokens = []
    i = 0
    n = len(text)
    line = 1
    trivia_start = 0
    while True:
        while i < n:
            ch = text[i]
            if ch == "#":
                end = text.find("\n", i)
                i = n if end < 0 else end
            elif ch.isspace():
                if ch == "\n":
                    line += 1
                i += 1
            else:
                break
        trivia = text[trivia_start:i]
        if tokens:
            before, trivia = _split_trivia(trivia)
            tokens[-1].post = before
        if i >= n:
            return tokens, trivia
        start = i
        token_line = line
        quoted = text[i] == '"'
        if quoted:
            i += 1
            escaped = False
            while i < n:
                ch = text[i]
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    break
                if ch == "\n":
                    line += 1
                i += 1
            else:
                raise CorefileError("corefile_syntax", "quoted string is never closed", token_line)
            i += 1
        else:
            while i < n and not text[i].isspace() and text[i] != "#":
                i += 1
        tokens.append(Token(text[start:i], pre=trivia, line=token_line, quoted=quoted))
        trivia_start = i


def _split_trivia(trivia):
    """Split trivia after a token into (rest of its line, leading trivia of what follows)."""
    cut = trivia.find("\n")
    if cut < 0:
        return "", trivia
    if cut > 0 and trivia[cut - 1] == "\r":
        cut -= 1
    return trivia[:cut], trivia[cut:]


# ---------------------------------------------------------------- tree


class Block(object):
    """``{ directive... }``; ``open``/``close`` are None for a brace-less single server."""

    def __init__(self, open_token=None, items=None, close_token=None):
        self.open = open_token
        self.items = items if items is not None else []
        self.close = close_token

    def tokens(self):
        if self.open is not None:
            yield self.open
        for item in self.items:
            yield from item.tokens()
        if self.close is not None:
            yield self.close

    def find(self, name):
        return [d for d in self.items if d.name == name]

    def first(self, name):
        found = self.find(name)
        return found[0] if found else None


class Directive(object):
    """``name args... [{ ... }]``: a plugin, a plugin's sub-directive, or an ``import``."""

    def __init__(self, tokens, block=None):
        self.head = tokens
        self.block = block
        # Comment lines to write above a directive built by new_directive; None once laid out.
        self.lead_comments = None

    @property
    def name(self):
        return self.head[0].value

    @property
    def args(self):
        return [t.value for t in self.head[1:]]

    @property
    def line(self):
        return self.head[0].line

    def tokens(self):
        yield from self.head
        if self.block is not None:
            yield from self.block.tokens()

    def set_args(self, args):
        """Replace the arguments, keeping the name, the block and the line's trailing comment."""
        trailing = self.head[-1].post
        self.head[-1].post = ""
        new = []
        for value in args:
            token = _make(value)
            token.pre = " "
            new.append(token)
        self.head = self.head[:1] + new
        self.head[-1].post = trailing

    def __repr__(self):
        return "Directive(%r, %r)" % (self.name, self.args)


class ServerBlock(object):
    """``[scheme://]zone[:port]... { directive... }``"""

    def __init__(self, keys, block):
        self.key_tokens = keys
        self.block = block

    @property
    def keys(self):
        return [_strip_comma(t.value) for t in self.key_tokens if _strip_comma(t.value)]

    @property
    def line(self):
        return self.key_tokens[0].line

    @property
    def items(self):
        return self.block.items

    def tokens(self):
        yield from self.key_tokens
        yield from self.block.tokens()

    def __repr__(self):
        return "ServerBlock(%r)" % (self.keys,)


class Snippet(ServerBlock):
    """``(name) { ... }``: tokens that ``import name`` pastes in."""

    @property
    def name(self):
        return self.key_tokens[0].value[1:-1]

    def __repr__(self):
        return "Snippet(%r)" % (self.name,)


class Corefile(object):
    """A parsed Corefile: server blocks, snippets and top-level imports, in file order."""

    def __init__(self, items, trailer="", newline="\n"):
        self.items = items
        self.trailer = trailer
        self.newline = newline

    def tokens(self):
        for item in self.items:
            yield from item.tokens()

    def emit(self):
        parts = []
        for token in self.tokens():
            parts.append(token.pre)
            parts.append(token.text)
            parts.append(token.post)
        parts.append(self.trailer)
        return "".join(parts)

    __str__ = emit

    @property
    def servers(self):
        return [item for item in self.items if isinstance(item, ServerBlock) and not isinstance(item, Snippet)]

    @property
    def snippets(self):
        return dict((item.name, item) for item in self.items if isinstance(item, Snippet))

    @property
    def imports(self):
        return [item for item in self.items if isinstance(item, Directive)]

    # -- layout of new nodes

    def indent_unit(self):
        """The indentation of directives in server blocks, learnt from the file (4 spaces by default)."""
        # A walk, not self.servers: appending thousands of blocks asks this each time.
        for server in self.items:
            if not isinstance(server, ServerBlock) or isinstance(server, Snippet):
                continue
            if server.block.open is not None and server.items:
                indent = indentation(server.items[0].head[0])
                if indent:
                    return indent
        return "    "

    def append_server(self, server, comments=()):
        """Add a server block (from ``new_server``) at the end, after a blank line."""
        nl = self.newline
        lead = nl if self.items else ""
        if self.items:
            lead += nl
        for comment in comments:
            lead += "# %s%s" % (comment, nl)
        server.key_tokens[0].pre = lead
        _layout_block(server.block, "", self.indent_unit(), self.newline)
        self.items.append(server)
        if self.items and not self.trailer.startswith(("\n", "\r\n")):
            self.trailer = nl + self.trailer

    def remove(self, item):
        """Remove a server block, snippet or import with the comments above it."""
        self.items.remove(item)


def _strip_comma(value):
    return value[:-1] if value.endswith(",") else value


def indentation(token):
    """The whitespace before ``token`` on its line ('' when it does not start a line)."""
    pre = token.pre
    cut = pre.rfind("\n")
    if cut < 0:
        return ""
    return pre[cut + 1:]


# ---------------------------------------------------------------- parser


class _Parser(object):
    def __init__(self, tokens):
        self.depth = 0
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def at_new_line(self, token):
        return self.pos == 0 or token.starts_line

    def parse(self):
        items = []
        snippet_names = set()
        while self.peek() is not None:
            token = self.peek()
            if token.value == "import" and self.at_new_line(token):
                items.append(self.directive(top_level=True))
                continue
            if token.value == "}":
                raise CorefileError("corefile_unbalanced_braces",
                                    "'}' without a matching '{'", token.line)
            if token.value == "{":
                raise CorefileError("corefile_syntax", "'{' without a server address before it", token.line)
            keys = self.addresses()
            after = self.peek()
            snippet = len(keys) == 1 and keys[0].value.startswith("(") and keys[0].value.endswith(")")
            if after is not None and after.value == "{":
                self.pos += 1
                block = self.block(after, server_level=True)
                if snippet:
                    item = Snippet(keys, block)
                    if item.name in snippet_names:
                        raise CorefileError("corefile_duplicate_snippet",
                                            "snippet (%s) is declared twice" % item.name, keys[0].line)
                    snippet_names.add(item.name)
                else:
                    item = ServerBlock(keys, block)
                items.append(item)
                self.after_close(block.close, nested=False)
                continue
            if snippet:
                raise CorefileError("corefile_syntax", "snippet %s needs a '{' block" % keys[0].value, keys[0].line)
            if after is None:
                raise CorefileError("corefile_syntax",
                                    "server address %s has no block" % " ".join(t.value for t in keys), keys[0].line)
            if items:
                raise CorefileError("corefile_syntax",
                                    "server block %s has no '{' (braces are optional only when the Corefile"
                                    " holds a single server block)" % " ".join(t.value for t in keys), keys[0].line)
            # CoreDNS accepts one server block without braces: everything after its address line.
            block = Block()
            while self.peek() is not None:
                if self.peek().value == "}":
                    raise CorefileError("corefile_unbalanced_braces",
                                        "'}' without a matching '{'", self.peek().line)
                block.items.append(self.directive(server_level=True))
            items.append(ServerBlock(keys, block))
        return items

    def addresses(self):
        keys = []
        expecting_more = False
        while True:
            token = self.peek()
            if token is None:
                if expecting_more:
                    raise CorefileError("corefile_syntax", "server address list ends with ','",
                                        keys[-1].line)
                return keys
            if keys and not expecting_more and token.starts_line:
                return keys
            if token.value == "{":
                if expecting_more:
                    raise CorefileError("corefile_syntax", "'{' where another server address was expected"
                                        " (extra comma?)", token.line)
                return keys
            if token.value == "}":
                raise CorefileError("corefile_unbalanced_braces", "'}' without a matching '{'", token.line)
            keys.append(token)
            expecting_more = token.value.endswith(",")
            self.pos += 1

    def block(self, open_token, server_level):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            # CoreDNS's plugins nest two or three deep; far deeper is hostile or broken input,
            # and the parser (and every walk of the tree) would run out of stack on it.
            raise CorefileError("corefile_too_deep", "blocks nest deeper than %d levels" % MAX_DEPTH, open_token.line)
        items = []
        while True:
            token = self.peek()
            if token is None:
                raise CorefileError("corefile_unbalanced_braces",
                                    "the '{' opened here is never closed", open_token.line)
            if token.value == "}":
                self.pos += 1
                self.depth -= 1
                return Block(open_token, items, token)
            items.append(self.directive(server_level=server_level))

    def directive(self, server_level=False, top_level=False):
        first = self.peek()
        if first.value == "{":
            raise CorefileError("corefile_syntax", "'{' must be on the line of the directive it belongs to",
                                first.line)
        head = [first]
        self.pos += 1
        block = None
        while True:
            token = self.peek()
            if token is None or token.starts_line:
                break
            if token.value == "{":
                if top_level:
                    raise CorefileError("corefile_syntax", "import takes no block", token.line)
                self.pos += 1
                block = self.block(token, server_level=False)
                self.after_close(block.close, nested=not server_level)
                break
            if token.value == "}":
                if server_level or top_level:
                    # CoreDNS: "Unexpected '}' because no matching opening brace".
                    raise CorefileError("corefile_syntax", "'}' closing a server block must start its own line",
                                        token.line)
                break
            head.append(token)
            self.pos += 1
        directive = Directive(head, block)
        if directive.name == "import":
            if len(head) != 2 or block is not None:
                raise CorefileError("corefile_syntax", "import takes exactly one argument (a file, glob or snippet)",
                                    first.line)
            if not head[1].value:
                raise CorefileError("corefile_syntax", "import needs a non-empty argument", first.line)
        return directive

    def after_close(self, close, nested):
        token = self.peek()
        if token is None or token.starts_line:
            return
        if nested and token.value == "}":
            return
        raise CorefileError("corefile_syntax", "%r follows '}' on the same line" % token.value, token.line)


def parse(text):
    """Parse Corefile ``text`` into a ``Corefile`` tree; ``parse(t).emit() == t``."""
    if not isinstance(text, str):
        raise CorefileError("corefile_syntax", "a Corefile must be text, not %s" % type(text).__name__)
    tokens, trailer = tokenize(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    return Corefile(_Parser(tokens).parse(), trailer, newline)


# ---------------------------------------------------------------- building and editing


def new_directive(name, args=(), children=None, comments=()):
    """A detached directive; ``children`` is a list of directives for its block (or None)."""
    head = [_make(name)] + [_make(a) for a in args]
    block = None
    if children is not None:
        block = Block(Token("{"), list(children), Token("}"))
    directive = Directive(head, block)
    directive.lead_comments = list(comments)
    if block is not None:
        for child in block.items:
            if child.lead_comments is None:
                child.lead_comments = []
    return directive


def new_server(keys, children):
    """A detached server block; lay it out with ``Corefile.append_server``."""
    key_tokens = [_make(k) for k in keys]
    return ServerBlock(key_tokens, Block(Token("{"), list(children), Token("}")))


def child_indent(block, parent_indent, unit):
    """Indentation for items of ``block``: that of its current items, else parent + unit."""
    for item in block.items:
        indent = indentation(item.head[0])
        if item.head[0].starts_line:
            return indent
    return parent_indent + unit


def nested_unit(block, default):
    """The extra indentation sub-blocks use relative to their directive in ``block``.

    kubeadm indents sub-directives by 3 more spaces than their plugin; new blocks follow suit.
    """
    for item in block.items:
        if item.block is not None and item.block.items:
            outer = indentation(item.head[0])
            inner = indentation(item.block.items[0].head[0])
            if inner.startswith(outer) and len(inner) > len(outer):
                return inner[len(outer):]
    return default


def _layout_directive(directive, indent, unit, nl):
    lead = nl
    for comment in directive.lead_comments or ():
        lead += "%s# %s%s" % (indent, comment, nl)
    directive.lead_comments = None
    directive.head[0].pre = lead + indent
    for token in directive.head[1:]:
        token.pre = " "
    for token in directive.head:
        token.post = ""
    if directive.block is not None:
        directive.block.open.pre = " "
        _layout_block(directive.block, indent, unit, nl)


def _layout_block(block, indent, unit, nl):
    inner = indent + unit
    for item in block.items:
        if item.lead_comments is not None or not item.head[0].starts_line:
            _layout_directive(item, inner, unit, nl)
    if block.open is not None:
        block.open.pre = block.open.pre or " "
        block.close.pre = nl + indent
        block.close.post = ""


def insert(block, index, directive, parent_indent, unit, nl):
    """Insert a detached directive into ``block`` at ``index``, laid out like its siblings."""
    indent = child_indent(block, parent_indent, unit)
    sub_unit = nested_unit(block, unit)
    _layout_directive(directive, indent, sub_unit, nl)
    block.items.insert(index, directive)
    if block.close is not None and not block.close.starts_line:
        block.close.pre = nl + parent_indent


def remove(block, directive):
    """Remove ``directive`` with the comment lines above it (they belong to it)."""
    block.items.remove(directive)
