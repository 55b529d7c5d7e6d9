#!/usr/bin/env python3
"""Generate the expectations relcon's YAML loader and json.dumps port are tested against.

Run from the repository root with PyYAML 6 installed:

    python3 tests/data/gen_yaml11_cases.py

Writes tests/data/yaml11-cases.json (YAML text -> what yaml.safe_load builds, typed, and what
json.dumps(sort_keys=True) makes of it) and tests/data/float-repr-cases.json (float bits ->
repr). The Rust tests only read these files; CI needs no Python.
"""

import datetime
import json
import random
import struct
import sys

import yaml

OUT = "tests/data/yaml11-cases.json"
FLOATS_OUT = "tests/data/float-repr-cases.json"


def enc(o, seen=()):
    """A typed, order-preserving JSON encoding of a safe_load result."""
    if id(o) in seen:
        return {"recursive": True}
    if isinstance(o, (list, dict)):
        seen = seen + (id(o),)
    if o is None or isinstance(o, bool):
        return o
    if isinstance(o, int):
        return {"int": str(o)}
    if isinstance(o, float):
        return {"float": repr(o)}
    if isinstance(o, str):
        try:
            o.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates (from "\\ud800" escapes) have no UTF-8 form: keep the JSON text.
            return {"surrogates": json.dumps(o)}
        return o
    if isinstance(o, datetime.datetime):
        return {"timestamp": o.isoformat()}
    if isinstance(o, datetime.date):
        return {"date": o.isoformat()}
    if isinstance(o, list):
        return [enc(x, seen) for x in o]
    if isinstance(o, dict):
        return {"map": [[enc(k, seen), enc(v, seen)] for k, v in o.items()]}
    return {"unsupported": type(o).__name__}


def case(name, text):
    entry = {"name": name, "yaml": text}
    try:
        value = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        entry["error"] = type(e).__name__
        entry["line"] = mark.line + 1 if mark else None
        entry["col"] = mark.column + 1 if mark else None
        return entry
    except Exception as e:  # ValueError, IndexError, ... from constructors
        entry["error"] = type(e).__name__
        return entry
    entry["value"] = enc(value)
    try:
        entry["json"] = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as e:
        entry["json_error"] = type(e).__name__
    return entry


SCALARS = """
yes no on off y n Y N Yes No TRUE FALSE True False On Off ON OFF yEs tRUE
1e-4 1.0e-4 1.5e3 1.5e+3 1.5E+3 1.5e-3 1.e+5 1e+5 .5 -.5 +.5 1. -1. +1.5 0.0 -0.0 00.5 1_0.5 1__.__5
.inf -.inf +.inf .Inf .INF .NaN .nan .NAN -.nan inf nan .infinity
1_000 0x_ff 0xFF 0XFF 0x 0b101 0b_ 0B101 017 09 0o17 0_7 +12 -0 0 -17 +0x1f 1_000_000_000_000_000_000
12345678901234567890123456789 99999999999999999999999999999999999999999 1:30 -1:30 +1:30 1:60 1:5 0:30
190:20:30 190:20:30.15 1:30.5 -1:30.5 1_0:2_0 1:2:3:4:5:6
~ null Null NULL nULL NuLL none None
2025-11-01 2025-1-1 2025-11-1 2025-13-01 2025-02-30 2024-02-29 0000-01-01 20251-11-01
2025-11-01T10:00:00Z 2025-11-01t10:00:00z 2025-11-01T10:00:00 2025-11-01T10:00:00.5 2025-11-01T10:00:00.123456789Z
2025-11-01T25:00:00 2025-11-01T10:60:00 2025-11-01T10:00:60 2025-1-1T1:00:00+05:30 2025-11-01T10:00:00-5 2025-11-01T10:00:00+24:00
= << <<< == ~~ - -- . .. ... 0. 0x0 0b0 00 0_ 08 0.1.2 1e 1e5 1.5E3 1.5e-03
hello é Привет 日本語 😀 a:b a#b true1 1true 1.0.0 2.1.0 v1 0.001 0.00001 10000000000.0 1e-10
""".split()

STANDALONE = [
    ("empty document", ""),
    ("comment only", "# nothing\n"),
    ("explicit empty document", "---\n...\n"),
    ("bare scalar", "42\n"),
    ("single quoted number", "v: '1'\n"),
    ("double quoted yes", 'v: "yes"\n'),
    ("empty single quoted", "v: ''\n"),
    ("empty value", "v:\n"),
    ("literal block", "v: |\n  line 1\n  line 2\n"),
    ("folded block", "v: >-\n  a\n  b\n\n  c\n"),
    ("literal keep", "v: |+\n  x\n\n"),
    ("literal number stays str", "v: |\n  12\n"),
    ("multi-line plain", "v: a\n  b\n\n  c\n"),
    ("double quoted escapes", 'v: "tab\\there\\nnl \\u00e9 \\U0001F600 \\x41 \\\\ \\" \\/"\n'),
    ("single quoted escape", "v: 'it''s'\n"),
    ("all escapes", 'v: "\\0\\a\\b\\t\\n\\v\\f\\r\\e\\ \\"\\/\\\\\\N\\_\\L\\P\\x41\\u00e9\\U0001F600"\n'),
    ("escaped tab", 'v: "a\\\tb"\n'),
    ("lone surrogate escape", 'v: "\\ud800"\n'),
    ("surrogate pair escapes", 'v: "\\ud83d\\ude00"\n'),
    ("bad escape", 'v: "\\q"\n'),
    ("short hex escape", 'v: "\\x4"\n'),
    ("double quoted folding", 'v: "a\n  b  \n\n  c"\n'),
    ("single quoted folding", "v: 'a\n  b\n\n  c'\n"),
    ("double quoted line continuation", 'v: "a\\\n  b"\n'),
    ("plain trailing spaces", "v: a b   # c\n"),
    ("crlf block scalar", "v: |\r\n  a\r\n  b\r\n"),
    ("literal indentation indicator", "v: |2\n   x\n  y\n"),
    ("folded more indented", "v: >\n  a\n    b\n  c\n\n  d\n"),
    ("folded strip keep", "a: >-\n  x\n\n\nb: >+\n  y\n\n\nc: 1\n"),
    ("non-ascii", "name: Hydraulic press – west hall\nemoji: 😀\n"),
    ("nested", "a:\n  b:\n    c: [1, 2, {d: e}]\n  f:\n  - x\n  - - y\n    - z\n"),
    ("flow map", "{a: 1, b: [true, null], c: {d: 1.5}}\n"),
    ("flow plain with colon", "{a: b:c}\n"),
    ("flow key without value", "{a: 1, b}\n"),
    ("json style", '{"a":1, "b":[1,2]}\n'),
    ("top-level list", "- 1\n- two\n- 3.0\n"),
    ("indentless list", "a:\n- 1\n- 2\n"),
    ("anchor alias", "base: &b {x: 1}\ncopy: *b\nlist: [*b, *b]\n"),
    ("anchor on scalar", "a: &n 5\nb: *n\n"),
    ("tag then anchor", "a: !!str &n 5\nb: *n\n"),
    ("anchor then tag", "a: &n !!str 5\nb: *n\n"),
    ("merge one", "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n"),
    ("merge list", "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nm:\n  <<: [*a, *b]\n  z: 3\n"),
    ("merge inline map", "m:\n  <<: {x: 1}\n  y: 2\n"),
    ("merge nested", "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nm: {<<: *b, z: 3}\n"),
    ("merge twice", "a: &a {x: 1}\nb: &b {x: 2}\nm:\n  <<: *a\n  <<: *b\n"),
    ("merge after key", "a: &a {x: 1, y: 1}\nm:\n  x: 0\n  <<: *a\n"),
    ("merge scalar", "m:\n  <<: 1\n"),
    ("merge list with scalar", "a: &a {x: 1}\nm:\n  <<: [*a, 2]\n"),
    ("quoted merge key", "m:\n  '<<': {x: 1}\n"),
    ("merge as value", "a: <<\n"),
    ("value key", "=: 1\n"),
    ("value value", "a: =\n"),
    ("value in list", "- =\n"),
    ("str on map with value key", "a: !!str {=: 5, b: 6}\n"),
    ("int on map with value key", "a: !!int {=: '0x10'}\n"),
    ("duplicate keys", "a: 1\nb: 2\na: 3\n"),
    ("bool and int keys", "1: a\ntrue: b\n1.0: c\n"),
    ("bool keys", "on: 1\noff: 2\nyes: 3\n"),
    ("int keys", "1: a\n2: b\n010: c\n0x10: d\n"),
    ("float keys", "1.5: a\n.inf: b\n-0.0: c\n0: d\n"),
    ("null key", "~: a\nnull: b\n"),
    ("nan keys", "{.nan: 1, .NaN: 2}\n"),
    ("mixed keys", "1: a\nb: c\n"),
    ("date key", "2025-11-01: a\n"),
    ("date and datetime keys", "{2025-01-01: 1, 2025-01-01 00:00:00: 2}\n"),
    ("equal aware datetimes", "{2025-01-01T00:00:00Z: 1, 2025-01-01 05:30:00 +05:30: 2}\n"),
    ("naive and aware", "{2025-01-01T00:00:00Z: 1, 2025-01-01T00:00:00: 2}\n"),
    ("list key", "? [1, 2]\n: x\n"),
    ("map key", "? {a: 1}\n: x\n"),
    ("explicit str", "a: !!str 123\nb: !!str yes\nc: !!str\n"),
    ("explicit int", "a: !!int '42'\nb: !!int 0o17\nc: !!int '--5'\n"),
    ("explicit int bad", "a: !!int 1.5\n"),
    ("explicit int empty", "a: !!int\n"),
    ("explicit float", "a: !!float 1\nb: !!float '1e5'\nc: !!float inf\nd: !!float ' 2.5 '\n"),
    ("explicit float bad", "a: !!float abc\n"),
    ("explicit bool", "a: !!bool 'YES'\nb: !!bool off\n"),
    ("explicit bool bad", "a: !!bool y\n"),
    ("explicit null", "a: !!null foo\nb: !!null ''\n"),
    ("explicit null on list", "a: !!null [1]\n"),
    ("explicit timestamp", "a: !!timestamp 2025-1-5\nb: !!timestamp '2025-11-01 10:00:00'\n"),
    ("explicit timestamp bad", "a: !!timestamp nope\n"),
    ("explicit seq map", "a: !!seq [1]\nb: !!map {x: 1}\n"),
    ("explicit seq on scalar", "a: !!seq 1\n"),
    ("explicit map on list", "a: !!map [1]\n"),
    ("verbatim tag", "a: !<tag:yaml.org,2002:int> '12'\n"),
    ("non-specific tag plain", "a: ! 12\n"),
    ("non-specific tag quoted", "a: ! '12'\nb: ! \"yes\"\nc: ! 'x'\n"),
    ("non-specific tag newline", 'a: ! "12\\n"\nb: ! "yes\\n"\n'),
    ("non-specific tag block", "a: ! |\n  0x10\n"),
    ("non-specific on list", "a: ! [1]\n"),
    ("custom tag", "a: !foo bar\n"),
    ("custom tag on map", "a: !foo {b: 1}\n"),
    ("python tag", "a: !!python/tuple [1, 2]\n"),
    ("binary tag", "a: !!binary aGVsbG8=\n"),
    ("set tag", "a: !!set {x, y}\n"),
    ("omap tag", "a: !!omap [{x: 1}]\n"),
    ("tag directive", "%TAG !e! tag:example.com,2000:\n--- !e!foo x\n"),
    ("yaml 1.1 directive", "%YAML 1.1\n--- 1\n"),
    ("yaml 1.2 directive", "%YAML 1.2\n--- yes\n"),
    ("yaml 2.0 directive", "%YAML 2.0\n--- 1\n"),
    ("two documents", "a: 1\n---\nb: 2\n"),
    ("two explicit documents", "--- 1\n--- 2\n"),
    ("document end then comment", "--- 1\n...\n# c\n"),
    ("duplicate anchor", "a: &x 1\nb: &x 2\n"),
    ("anchor with dot", "a: &x.y 1\nb: *x.y\n"),
    ("anchor with dash", "a: &x-y_1 1\nb: *x-y_1\n"),
    ("undefined alias", "a: *nope\n"),
    ("recursive alias", "a: &a [*a]\n"),
    ("tab after colon", "a:\tb\n"),
    ("trailing tab", "a: b\t\n"),
    ("tab inside plain", "a: b\tc\n"),
    ("tab in quoted", 'a: "b\tc"\nb: \'d\te\'\n'),
    ("tab in comment", "a: b # c\td\n"),
    ("tab in block", "a: |\n  x\ty\n"),
    ("tab indent", "a:\n\tb: 1\n"),
    ("tab in flow", "[1,\t2]\n"),
    ("bom", "\ufeffa: 1\n"),
    ("control char", "a: \x01\n"),
    ("del char", "a: \x7f\n"),
    ("nel char", "a: b\x85c\n"),
    ("line separator", "a: b\u2028c: d\n"),
    ("crlf", "a: 1\r\nb: yes\r\n"),
    ("bad indentation", "a:\n  b: 1\n c: 2\n"),
    ("unclosed flow", "a: [1, 2\n"),
    ("unclosed quote", "a: 'x\n"),
    ("colon in key", "a:b: c\n"),
    ("quoted then junk", "a: 'x'y\n"),
    ("question in flow", "[a?b]\n"),
    ("question in flow map value", "{a: b?c}\n"),
    ("question in flow key", "{a?: 1}\n"),
    ("question starting flow item", "[?a]\n"),
    ("explicit key in flow", "{? a : b}\n"),
    ("quoted question in flow", "[a, \"b?\"]\n"),
    ("question in block plain", "a: b?c\nurl: http://x?y=1\n"),
    ("url in flow", "[http://x?y=1]\n"),
    ("anchored flow list", "a: &l [1, x?]\n"),
    ("anchored block list", "a: &l\n- x?\n"),
    ("hash without space", "a: b#c\n"),
    ("key only explicit", "? a\n? b\n"),
    ("deep nesting", "[" * 50 + "1" + "]" * 50 + "\n"),
    ("config with unquoted date", "cutoff_date: 2025-11-01\ntraining_days: 365\n"),
    ("hyperparameters with floats", "hp:\n  lr: 1e-3\n  lr2: 1.0e-3\n  wd: 5.0e-4\n  m: .9\n"),
    ("version strings", "v: 1.0.0\nw: 1.0\nx: 1\n"),
]


def fuzz_scalars(rng, n):
    alphabet = "0123456789_.:-+eExXbBoOnNaAiIfFtTZ~<=lsuy"
    weights = [6] * 10 + [2] * (len(alphabet) - 10)
    out = set()
    while len(out) < n:
        length = rng.randint(1, 9)
        out.add("".join(rng.choices(alphabet, weights, k=length)))
    return sorted(out)


def fuzz_timestamps(rng, n):
    out = set()
    while len(out) < n:
        y = rng.choice(["2025", "1999", "0001", "9999", "0000", "202"])
        mo = rng.choice(["1", "01", "12", "13", "00", "2", "02"])
        d = rng.choice(["1", "01", "28", "29", "30", "31", "32"])
        s = f"{y}-{mo}-{d}"
        if rng.random() < 0.7:
            sep = rng.choice(["T", "t", " ", "  ", "\t", "_"])
            h = rng.choice(["0", "00", "9", "23", "24", "123"])
            s += f"{sep}{h}:{rng.choice(['00', '59', '60', '5'])}:{rng.choice(['00', '59', '60'])}"
            if rng.random() < 0.4:
                s += "." + "".join(rng.choices("0123456789", k=rng.randint(0, 8)))
            if rng.random() < 0.6:
                s += rng.choice(["", " ", "  "]) + rng.choice(
                    ["Z", "z", "+5", "-05", "+05:30", "-5:3", "+23:59", "+24:00", "+99"]
                )
        out.add(s)
    return sorted(out)


BLOCK_ATOMS = ['a', 'b c', 'yes', '1.5', '0x1f', '~', '', "'q'", '"d\\tq"', "'it''s'", '"\\u00e9"', 'x: y',
               'é', '-1', '1e3', '1.0e+3', '2025-01-01', 'a#b', 'a #c', '"multi\n  line"', 'plain\n  cont',
               '*A', '&A v', '!!str 1', '! 1', '"x"', '? ', '-', '--- ', '... ', 'null', '0o7', '.5', 'on', '<<',
               '=', 'a:b', '"sp  "', "' lead'", '|\n  lit\n', '>\n  fold\n  ed\n', '|-\n  x\n\n',
               '|+\n  x\n\n', '>2\n   x\n', '[1, 2]', '{a: 1}', '[]', '{}', '[a, [b, {c: d}]]',
               '{a: [1, 2], b: {c: ~}}']

FLOW_ATOMS = ['a', 'b c', 'yes', '1.5', '0x1f', '~', '', "'q'", '"d q"', "'it''s'", '1e3', '1.0e+3', '2025-01-01',
              'a#b', '-1', '.5', 'on', 'null', '"a,b"', "'[x]'", 'x:y', 'é', '"\\u00e9"', '!!str 1', '! 1',
              '!!int "7"', '&A 5', '*A', '<<', '=', '-x', ':x', 'x-', '1:30', '0o7', '017', '+1', '.inf', '"{"',
              'http://h/p', 'a b  c', '!!float 1', '!!bool yes', '!!null', '!!str']


def fuzz_block_document(rng, indent=0, depth=0):
    """Block mappings and sequences with comments, blank lines and odd indentation."""
    pad = " " * indent
    r = rng.random()
    lines = []
    if r < 0.45 and depth < 4:
        for _ in range(rng.randint(1, 4)):
            key = rng.choice(["k", "key two", "on", "1", '"q"', "'s'", "<<", "x", "y", "a b", "? e"])
            if rng.random() < 0.5 and depth < 3:
                sub = fuzz_block_document(rng, indent + rng.choice([1, 2, 4]), depth + 1)
                lines.append(f"{pad}{key}:{rng.choice(['', ' ', ' # c'])}\n{sub}")
            else:
                lines.append(f"{pad}{key}: {rng.choice(BLOCK_ATOMS)}{rng.choice(['', '', ' # com', '  '])}\n")
            if rng.random() < 0.1:
                lines.append(rng.choice(["\n", f"{pad}# comment\n", "   \n"]))
    elif r < 0.8 and depth < 4:
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.3 and depth < 3:
                sub = fuzz_block_document(rng, indent + 2, depth + 1)
                lines.append(f"{pad}-{rng.choice(['', ' '])}\n{sub}")
            else:
                lines.append(f"{pad}- {rng.choice(BLOCK_ATOMS)}\n")
    else:
        lines.append(f"{pad}{rng.choice(BLOCK_ATOMS)}\n")
    return "".join(lines)


def fuzz_flow(rng, depth=0):
    """Flow collections with odd spacing, comments, empty entries and explicit keys."""
    r = rng.random()
    if depth > 3 or r < 0.4:
        return rng.choice(FLOW_ATOMS)
    sp = lambda: rng.choice(["", " ", " ", "  ", "\n  ", " # c\n  "])
    if r < 0.7:
        items = [fuzz_flow(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        trailing = "," if rng.random() < 0.1 else ""
        return "[" + sp() + ("," + sp()).join(items) + trailing + sp() + "]"
    items = []
    for _ in range(rng.randint(0, 4)):
        k = rng.choice(["k", "on", "1", '"q"', "'s'", "<<", "x", "? x", "[1]", "{a: 1}", "", "1.0", "true"])
        if rng.random() < 0.2:
            items.append(k)
        else:
            items.append(k + ":" + rng.choice([" ", " ", "  ", "", "\n   "]) + fuzz_flow(rng, depth + 1))
    return "{" + sp() + ("," + sp()).join(items) + sp() + "}"


def fuzz_flow_document(rng):
    r = rng.random()
    if r < 0.5:
        return fuzz_flow(rng) + "\n"
    if r < 0.8:
        return "".join(f"k{i}: {fuzz_flow(rng, 1)}\n" for i in range(rng.randint(1, 3)))
    return "".join(f"- {fuzz_flow(rng, 1)}\n" for _ in range(rng.randint(1, 3)))


def fuzz_punctuation_document(rng):
    """Plain scalars full of indicator characters, as values, keys and list items."""
    alphabet = "ab1 :#-?,[]{}&*!|>'\"%@`.~=<\\/"
    weights = [5, 5, 4, 6] + [2] * (len(alphabet) - 4)
    s = "".join(rng.choices(alphabet, weights, k=rng.randint(1, 7)))
    return rng.choice([f"v: {s}\n", f"{s}: v\n", f"- {s}\n", f"k:\n  {s}\n"])


def fuzz_documents(rng, make, n):
    out = set()
    while len(out) < n:
        doc = make(rng)
        if "&A" not in doc:
            doc = doc.replace("*A", "z")
        out.add(doc)
    return sorted(out)


def float_cases(rng, n):
    out = []
    fixed = [0.0, -0.0, 1.0, 0.1, 0.3, 1e-5, 1e-4, 0.0001, 0.00011, 9.999e-5, 1e15, 1e16, 1e17,
             9999999999999998.0, 1234567890123456.7, 5e-324, 2.2250738585072014e-308,
             1.7976931348623157e308, 100.0, 1e22, 1e23, 0.30000000000000004, 2.5, 123456.789]
    for f in fixed:
        out.append(f)
    while len(out) < n:
        kind = rng.random()
        if kind < 0.5:
            bits = rng.getrandbits(64)
            f = struct.unpack("<d", struct.pack("<Q", bits))[0]
        elif kind < 0.8:
            f = rng.uniform(-1, 1) * 10 ** rng.randint(-8, 20)
        else:
            f = round(rng.uniform(0, 1000), rng.randint(0, 6))
        if f == f and f not in (float("inf"), float("-inf")):
            out.append(f)
    # Dyadic fractions of large integers: exact values halfway between two shortest reprs,
    # where CPython rounds to the even digit.
    for _ in range(2000):
        bits = rng.randint(40, 60)
        out.append((rng.getrandbits(bits) | (1 << (bits - 1))) / (1 << rng.randint(0, 12)))
    return [{"bits": format(struct.unpack("<Q", struct.pack("<d", f))[0], "016x"), "repr": repr(f)} for f in out]


def main():
    if not yaml.__version__.startswith("6."):
        sys.exit(f"PyYAML 6 expected, found {yaml.__version__}")
    rng = random.Random(20251101)
    cases = []
    for s in SCALARS:
        cases.append(case(f"scalar {s}", f"v: {s}\n"))
    for name, text in STANDALONE:
        cases.append(case(name, text))
    for s in fuzz_scalars(rng, 1500):
        cases.append(case(f"fuzz {s}", f"v: {s}\n"))
    for s in fuzz_timestamps(rng, 400):
        cases.append(case(f"timestamp {s}", f"v: {s}\n"))
    for kind, make, n in [
        ("block", lambda r: fuzz_block_document(r), 500),
        ("flow", fuzz_flow_document, 500),
        ("punctuation", fuzz_punctuation_document, 600),
    ]:
        for i, doc in enumerate(fuzz_documents(rng, make, n)):
            cases.append(case(f"doc-fuzz {kind} {i}", doc))
    doc = {
        "generator": "tests/data/gen_yaml11_cases.py",
        "pyyaml": yaml.__version__,
        "python": sys.version.split()[0],
        "encoding": "null/bool/str as JSON; {int: decimal}, {float: repr}, {date: iso}, "
        "{timestamp: isoformat}, lists, {map: [[k, v], ...]} in dict order; "
        "errors as {error: exception type, line, col}",
        "cases": cases,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    floats = {"generator": "tests/data/gen_yaml11_cases.py", "cases": float_cases(rng, 3000)}
    with open(FLOATS_OUT, "w", encoding="utf-8") as f:
        json.dump(floats, f, indent=0)
        f.write("\n")
    print(f"{len(cases)} YAML cases, {len(floats['cases'])} floats")


if __name__ == "__main__":
    main()
