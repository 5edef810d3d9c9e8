"""The widget's build strips comments from its JavaScript, and nothing else."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from rostra.widget.build import INLINE, SOURCES, bundle, slim, split_source
from tests.conftest import require


def test_it_drops_comments_at_the_end_of_a_line_and_beside_code() -> None:
    source = "const a = 1; // why\nf(/* the count */ a);\nconst b = 2; /* why */\n"
    assert slim(source) == "const a = 1;\nf( a);\nconst b = 2;\n"


def test_it_drops_comment_lines_blank_lines_and_indentation() -> None:
    source = "/**\n * A doc comment.\n */\nfunction f() {\n    // a note\n\n    return 1;\n}\n"
    assert slim(source) == "function f() {\nreturn 1;\n}\n"


def test_it_keeps_a_line_break_where_a_block_comment_held_one() -> None:
    # automatic semicolon insertion: `a` and `b()` stay two statements
    assert slim("let x = a /* one\n two */\nb()\n") == "let x = a\nb()\n"


@pytest.mark.parametrize(
    "line",
    [
        'const u = "https://example.org/a"; ',
        "const u = 'see // this'; ",
        'const q = "a \\" // b"; ',
        "const t = `https://${host}/x // kept`; ",
        "const r = /https?:\\/\\//; ",
        "const r = /[/]\\/*/g.test(s); ",
        "if (!/^\\/\\//.test(s)) x(); ",
        "return /\\/\\//.test(s); ",
    ],
)
def test_it_keeps_what_looks_like_a_comment_inside_a_literal(line: str) -> None:
    assert slim(line + "// a comment\n") == line.rstrip() + "\n"


def test_it_reads_nested_template_expressions() -> None:
    source = "const t = `a ${ f({ k: `b ${ c /* x */ } // d` }) } // e`; // f\n"
    assert slim(source) == "const t = `a ${ f({ k: `b ${ c } // d` }) } // e`;\n"


def test_it_keeps_a_multi_line_template_exactly() -> None:
    source = "const t = `\n  // not a comment\n\n    /* nor this */\n`; // but this\n"
    assert slim(source) == "const t = `\n  // not a comment\n\n    /* nor this */\n`;\n"


def test_it_tells_a_division_from_a_regular_expression() -> None:
    assert slim("const h = (a + b) / 2; // half\nconst q = n / d / 2; // over\n") == (
        "const h = (a + b) / 2;\nconst q = n / d / 2;\n")


def test_it_refuses_a_source_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="template"):
        slim("const t = `open\n")


def shipped() -> dict[str, str]:
    """Every JavaScript file the server sends, by name, as it sends it."""
    b = bundle()
    files = {name: a.body.decode() for name, a in b.files.items() if name.endswith(".js")}
    files["embed.js"] = b.loader.body.decode()
    return files


def sources() -> dict[str, str]:
    found = {p.relative_to(SOURCES).as_posix(): p.read_text(encoding="utf-8") for p in SOURCES.rglob("*.js")}
    found |= {"inline/" + p.relative_to(INLINE).as_posix(): p.read_text(encoding="utf-8") for p in INLINE.rglob("*.js")}
    return found


def test_it_ships_every_literal_as_written() -> None:
    files = shipped()
    assert {"rostra.js", "i18n/en.js", "inline/inline.js", "inline/anchor.js", "embed.js"} <= set(files)
    for name, text in sources().items():
        if "__ROSTRA_" in text:
            continue  # build-time values are filled into this one
        literals = [t for is_code, t in split_source(text) if not is_code]
        assert [t for is_code, t in split_source(files[name]) if not is_code] == literals, name


def test_it_ships_javascript_that_parses(tmp_path: Path) -> None:
    node = shutil.which("node")
    require(node is not None, "node is not installed (Debian: nodejs)")
    assert node is not None
    for name, text in shipped().items():
        module = tmp_path / (name.replace("/", "__").removesuffix(".js") + ".mjs")
        module.write_text(text, encoding="utf-8")
        checked = subprocess.run([node, "--check", str(module)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{name}: {checked.stderr}"
