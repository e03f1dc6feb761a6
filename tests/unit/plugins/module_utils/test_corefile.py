"""The Corefile parser: lossless round-trip, CoreDNS's lexical rules, structure, coded errors, editing."""

import glob
import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.edgeops.k8s_network.plugins.module_utils import corefile as cf

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "corefiles")
CORPUS = sorted(glob.glob(os.path.join(FIXTURES, "*.Corefile")))


def read(path):
    with io.open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def test_corpus_is_there():
    names = set(os.path.basename(p) for p in CORPUS)
    assert {"kubeadm-1.13.Corefile", "kubeadm-1.21.Corefile", "kubeadm-current.Corefile", "k3s.Corefile",
            "stub-domains.Corefile", "rewrite.Corefile", "snippets-comments.Corefile"} <= names


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_corpus_round_trips_byte_for_byte(path):
    text = read(path)
    tree = cf.parse(text)
    assert tree.servers, "every corpus file has a server block"
    assert tree.emit() == text


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_corpus_round_trips_with_windows_line_ends(path):
    text = read(path).replace("\n", "\r\n")
    tree = cf.parse(text)
    assert tree.newline == "\r\n"
    assert tree.emit() == text


def shape(tree):
    def block(items):
        return [(d.name, d.args, block(d.block.items) if d.block else None) for d in items]
    return [(type(i).__name__, i.args) if isinstance(i, cf.Directive) else (type(i).__name__, i.keys, block(i.items))
            for i in tree.items]


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_comments_and_layout_do_not_change_the_structure(path):
    original = cf.parse(read(path))
    bare = []
    for token in original.tokens():
        bare.append(("\n" if token.starts_line else " ") + token.text)
    flattened = "".join(bare).lstrip() + "\n"
    assert "#" not in flattened.replace('"{ # }"', "")
    assert shape(cf.parse(flattened)) == shape(original)


# ---------------------------------------------------------------- lexical rules


def test_kubeadm_structure():
    tree = cf.parse(read(os.path.join(FIXTURES, "kubeadm-current.Corefile")))
    assert len(tree.servers) == 1
    root = tree.servers[0]
    assert root.keys == [".:53"]
    assert [d.name for d in root.items] == ["errors", "health", "ready", "kubernetes", "prometheus", "forward",
                                            "cache", "loop", "reload", "loadbalance"]
    kubernetes = root.block.first("kubernetes")
    assert kubernetes.args == ["cluster.local", "in-addr.arpa", "ip6.arpa"]
    assert [(d.name, d.args) for d in kubernetes.block.items] == [
        ("pods", ["insecure"]), ("fallthrough", ["in-addr.arpa", "ip6.arpa"]), ("ttl", ["30"])]
    cache = root.block.first("cache")
    assert [d.args for d in cache.block.items] == [["success", "cluster.local"], ["denial", "cluster.local"]]


def test_quoted_strings_keep_spaces_braces_and_hashes():
    tree = cf.parse('. {\n    log . "{remote} # {name}" "say \\"hi\\"" "a\\\\b"\n}\n')
    log = tree.servers[0].items[0]
    assert log.args == [".", "{remote} # {name}", 'say "hi"', "a\\\\b"]
    assert [t.quoted for t in log.head] == [False, False, True, True, True]


def test_quoted_string_may_span_lines():
    text = '. {\n    template IN TXT {\n        answer "a\nb"\n    }\n}\n'
    tree = cf.parse(text)
    answer = tree.servers[0].items[0].block.items[0]
    assert answer.args == ["a\nb"]
    assert tree.emit() == text


def test_hash_starts_a_comment_even_inside_a_word():
    tree = cf.parse(". {\n    errors#not-an-arg\n    whoami # trailing\n}\n")
    items = tree.servers[0].items
    assert [(d.name, d.args) for d in items] == [("errors", []), ("whoami", [])]
    assert items[1].head[0].post == " # trailing"


def test_comment_lines_belong_to_the_node_below():
    tree = cf.parse("# about the root\n.:53 {\n    # about errors\n\n    errors\n}\n")
    root = tree.servers[0]
    assert root.key_tokens[0].comments() == ["about the root"]
    assert root.items[0].head[0].comments() == ["about errors"]


def test_env_placeholders_stay_tokens():
    tree = cf.parse(".:{$PORT} {\n    forward . {$UPSTREAM} {%FALLBACK%}\n}\n")
    assert tree.servers[0].keys == [".:{$PORT}"]
    assert tree.servers[0].items[0].args == [".", "{$UPSTREAM}", "{%FALLBACK%}"]
    assert cf.is_placeholder("{$UPSTREAM}") and cf.is_placeholder("{%X%}") and not cf.is_placeholder("10.0.0.1")


def test_several_zones_schemes_ports_and_comma_continuation():
    tree = cf.parse("example.org:1053 example.net:1053 {\n    whoami\n}\n"
                    "dns://a.example,\n  tls://b.example:853 {\n    whoami\n}\n")
    assert tree.servers[0].keys == ["example.org:1053", "example.net:1053"]
    assert tree.servers[1].keys == ["dns://a.example", "tls://b.example:853"]


def test_open_brace_may_sit_on_the_line_after_the_addresses():
    text = ".:53\n{\n    whoami\n}\n"
    tree = cf.parse(text)
    assert tree.servers[0].keys == [".:53"] and tree.servers[0].items[0].name == "whoami"
    assert tree.emit() == text


def test_single_server_without_braces():
    text = ".:53\nwhoami\nlog\n"
    tree = cf.parse(text)
    assert tree.servers[0].block.open is None
    assert [d.name for d in tree.servers[0].items] == ["whoami", "log"]
    assert tree.emit() == text


def test_snippets_and_imports():
    tree = cf.parse(read(os.path.join(FIXTURES, "snippets-comments.Corefile")))
    assert sorted(tree.snippets) == ["common", "upstreams"]
    assert [d.name for d in tree.snippets["common"].items] == ["errors", "log", "cache"]
    root = tree.servers[0]
    assert [d.args for d in root.block.find("import")] == [["common"], ["upstreams"]]
    k3s = cf.parse(read(os.path.join(FIXTURES, "k3s.Corefile")))
    assert [d.args for d in k3s.imports] == [["/etc/coredns/custom/*.server"]]
    assert k3s.servers[0].block.first("import").args == ["/etc/coredns/custom/*.override"]


def test_nested_block_on_one_line():
    tree = cf.parse(".:53 {\n    health { lameduck 5s }\n    ready\n}\n")
    health = tree.servers[0].items[0]
    assert [(d.name, d.args) for d in health.block.items] == [("lameduck", ["5s"])]
    assert tree.servers[0].items[1].name == "ready"


def test_empty_and_comment_only_files():
    assert cf.parse("").items == [] and cf.parse("").emit() == ""
    text = "# nothing here yet\n\n"
    assert cf.parse(text).emit() == text and cf.parse(text).servers == []


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("text, code", [
    (".:53 {\n    errors\n", "corefile_unbalanced_braces"),
    (".:53 {\n    health {\n        lameduck 5s\n}\n", "corefile_unbalanced_braces"),
    (".:53 {\n    errors\n}\n}\n", "corefile_unbalanced_braces"),
    ("}\n", "corefile_unbalanced_braces"),
    (".:53\nerrors\n}\n", "corefile_unbalanced_braces"),
    (".:53 { errors }\n", "corefile_syntax"),
    (".:53 {\n    log \"unterminated\n}\n", "corefile_syntax"),
    (".:53\n", "corefile_syntax"),
    ("{\n    errors\n}\n", "corefile_syntax"),
    (".:53 {\n    forward . 1.1.1.1\n    {\n        max_fails 3\n    }\n}\n", "corefile_syntax"),
    (".:53 {\n    health {\n    } ready\n}\n", "corefile_syntax"),
    (".:53 {\n    errors\n} example.org {\n}\n", "corefile_syntax"),
    ("a.example, {\n    whoami\n}\n", "corefile_syntax"),
    (".:53 {\n    import\n}\n", "corefile_syntax"),
    (".:53 {\n    import a b\n}\n", "corefile_syntax"),
    ("import\n", "corefile_syntax"),
    ("(snip)\n.:53 {\n}\n", "corefile_syntax"),
    (".:53 {\n    whoami\n}\nexample.org\nwhoami\n", "corefile_syntax"),
    ("(a) {\n    log\n}\n(a) {\n    errors\n}\n", "corefile_duplicate_snippet"),
])
def test_errors_carry_a_code_and_a_line(text, code):
    with pytest.raises(cf.CorefileError) as caught:
        cf.parse(text)
    assert caught.value.code == code
    assert caught.value.line is not None and "line %d" % caught.value.line in str(caught.value)


@pytest.mark.parametrize("text", [
    ".:53 {\n    errors\n}\n",
    ".:53 {\n    health {\n        lameduck 5s\n    }\n}\n",
    ".:53 {\n}\n",
    ". { }\n",
    ".:53 {\n    template IN A {\n        match \"^a[.]\"\n        answer \"{{ .Name }} 60 IN A 10.0.0.1\"\n    }\n}\n",
    "(a) {\n    log\n}\n(b) {\n    errors\n}\n",
])
def test_the_passing_side_of_each_error(text):
    assert cf.parse(text).emit() == text


def test_non_text_is_a_coded_error():
    with pytest.raises(cf.CorefileError) as caught:
        cf.parse(None)
    assert caught.value.code == "corefile_syntax"


# ---------------------------------------------------------------- editing


def test_set_args_keeps_the_trailing_comment_and_the_block():
    tree = cf.parse(".:53 {\n    forward . /etc/resolv.conf # node resolvers\n    proxy . 1.1.1.1 {\n"
                    "        max_fails 3\n    }\n}\n")
    forward, proxy = tree.servers[0].items
    forward.set_args([".", "10.0.0.1", "10.0.0.2"])
    proxy.set_args([".", "9.9.9.9"])
    assert tree.emit() == (".:53 {\n    forward . 10.0.0.1 10.0.0.2 # node resolvers\n    proxy . 9.9.9.9 {\n"
                           "        max_fails 3\n    }\n}\n")


def test_new_values_are_quoted_when_needed():
    directive = cf.new_directive("log", [".", "{name} {type}", 'a"b', ""])
    assert [t.text for t in directive.head] == ["log", ".", '"{name} {type}"', '"a\\"b"', '""']
    assert directive.args == [".", "{name} {type}", 'a"b', ""]


def test_insert_follows_the_neighbours_indentation():
    tree = cf.parse(".:53 {\n  errors\n  cache 30 {\n     success 1000\n  }\n}\n")
    root = tree.servers[0]
    hosts = cf.new_directive("hosts", [], [cf.new_directive("10.0.0.1", ["a.example"]),
                                           cf.new_directive("fallthrough")], comments=["fixed names"])
    cf.insert(root.block, 1, hosts, "", tree.indent_unit(), tree.newline)
    assert tree.emit() == (".:53 {\n  errors\n  # fixed names\n  hosts {\n     10.0.0.1 a.example\n"
                           "     fallthrough\n  }\n  cache 30 {\n     success 1000\n  }\n}\n")
    assert cf.parse(tree.emit()).emit() == tree.emit()


def test_insert_into_an_empty_one_line_block():
    tree = cf.parse(". { }\n")
    cf.insert(tree.servers[0].block, 0, cf.new_directive("whoami"), "", tree.indent_unit(), tree.newline)
    assert tree.emit() == ". {\n    whoami\n}\n"


def test_append_and_remove_a_server_restores_the_text():
    text = read(os.path.join(FIXTURES, "kubeadm-current.Corefile"))
    tree = cf.parse(text)
    server = cf.new_server(["site.example:53"], [cf.new_directive("errors"), cf.new_directive("forward", [
        ".", "10.0.0.53"])])
    tree.append_server(server, comments=["added"])
    assert tree.emit() == text + "\n# added\nsite.example:53 {\n    errors\n    forward . 10.0.0.53\n}\n"
    tree.remove(server)
    assert tree.emit() == text


def test_edits_keep_windows_line_ends():
    text = ".:53 {\r\n    errors\r\n}\r\n"
    tree = cf.parse(text)
    cf.insert(tree.servers[0].block, 1, cf.new_directive("whoami"), "", tree.indent_unit(), tree.newline)
    assert tree.emit() == ".:53 {\r\n    errors\r\n    whoami\r\n}\r\n"


# ---------------------------------------------------------------- property: the lexer loses nothing

PIECES = st.sampled_from([" ", "  ", "\t", "\n", "\r\n", "# note", "#", "{", "}", "forward", ".", "10.0.0.1",
                          '"a b"', '"x\\"y"', '"{ # }"', "{$ENV}", "(snip)", "import", "a,", "\"\""])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40))
def test_tokens_and_trivia_give_back_any_input(pieces):
    text = "".join(pieces)
    tokens, trailer = cf.tokenize(text)
    assert "".join(t.pre + t.text + t.post for t in tokens) + trailer == text
    for token in tokens:
        assert "\n" not in token.post
        assert token.text and not token.text[0].isspace()


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40))
def test_parse_either_round_trips_or_raises_a_coded_error(pieces):
    text = "".join(pieces)
    try:
        tree = cf.parse(text)
    except cf.CorefileError as exc:
        assert exc.code in ("corefile_syntax", "corefile_unbalanced_braces", "corefile_duplicate_snippet")
    else:
        assert tree.emit() == text
