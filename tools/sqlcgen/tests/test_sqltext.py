"""Placeholder rewriting and wrapping must leave literals, quoted names and comments alone."""

from __future__ import annotations

from sqlcgen.sqltext import python_literal, rewrite_placeholders, wrap


def named(number: int) -> str:
    return f"%(p{number})s"


def test_placeholders_in_code_are_rewritten() -> None:
    sql = "SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $1"
    assert rewrite_placeholders(sql, named, double_percent=True) == (
        "SELECT * FROM t WHERE a = %(p1)s AND b = %(p2)s OR a = %(p1)s"
    )


def test_placeholders_in_literals_and_comments_are_kept() -> None:
    sql = (
        "SELECT '$1', \"$2\", $$ $1 $$, $tag$ $2 $tag$, E'\\'$1' -- $1\n/* $2 /* $1 */ */ FROM t WHERE x = $3"
    )
    rewritten = rewrite_placeholders(sql, named, double_percent=False)
    assert rewritten == sql.replace("x = $3", "x = %(p3)s")


def test_percent_is_doubled_everywhere_for_psycopg() -> None:
    sql = "SELECT '100%' AS a WHERE b LIKE $1 || '%' -- 5%"
    assert rewrite_placeholders(sql, named, double_percent=True) == (
        "SELECT '100%%' AS a WHERE b LIKE %(p1)s || '%%' -- 5%%"
    )


def test_identifier_with_dollar_is_not_a_dollar_quote() -> None:
    sql = "SELECT a$b$ FROM t WHERE c = $1"
    assert rewrite_placeholders(sql, named, double_percent=False) == "SELECT a$b$ FROM t WHERE c = %(p1)s"


def test_wrap_breaks_only_between_code_tokens() -> None:
    sql = "SELECT aaaa, bbbb, 'cc cc cc cc', dddd FROM t -- a long comment here"
    lines = wrap(sql, 20)
    assert lines == [
        "SELECT aaaa, bbbb,",
        "    'cc cc cc cc',",
        "    dddd FROM t",
        "    -- a long comment here",
    ]
    assert " ".join(line.strip() for line in lines) == sql


def test_wrap_drops_trailing_whitespace_in_code_only() -> None:
    assert wrap("SELECT 1   \nFROM t", 80) == ["SELECT 1", "FROM t"]
    assert wrap("SELECT 'a   \nb'", 80) == ["SELECT 'a   ", "b'"]


def test_python_literal_escapes_backslashes_and_quotes() -> None:
    literal = python_literal('SELECT \'\\d\' AS """x"""', 80)
    namespace: dict[str, object] = {}
    exec(f"value = {literal}", namespace)
    assert namespace["value"] == '\nSELECT \'\\d\' AS """x"""\n'
