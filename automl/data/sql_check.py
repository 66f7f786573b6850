"""The one-SELECT check for database queries, with a real SQL parser (sqlglot) per dialect.

A query passes when it parses, in the server's dialect, as exactly one SELECT (WITH, set
operations of selects and VALUES included) holding no statement that writes, no INTO, no
locking clause and no call to a function that touches the server's files, the network,
other sessions or settings, or runs SQL given as text (``DENIED``; quoted, any case,
schema-qualified, or called as ``(value).function``). Anything the parser cannot read is
refused: the check fails closed.

What runs on the server is the statement as the parser read it, written out again without
comments (``check_select`` returns it), so a difference between how the parser and the
server read comments, quotes or escapes (MySQL's ``/*! ... */``, PostgreSQL's ``U&"..."``)
cannot smuggle in unchecked code. MySQL executable comments are refused with a message, as
the server would have run them. The read-only transaction and a read-only account stay the
guards for what a SELECT may still do (a user-defined function, for one).
"""

from __future__ import annotations

import logging
import re
from typing import ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.errors import ErrorLevel, SqlglotError

from automl.errors import DataError

__all__ = ["DENIED", "check_select"]

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "parsing as a Command" notes

DENIED = frozenset((
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write",
    "pg_file_rename", "pg_file_unlink", "pg_file_sync", "pg_logdir_ls", "pg_sleep",
    "pg_sleep_for", "pg_sleep_until", "pg_terminate_backend", "pg_cancel_backend",
    "pg_reload_conf", "set_config", "nextval", "setval", "lo_import", "lo_export", "lo_get",
    "lo_put", "lo_create", "lo_creat", "lo_unlink", "lo_open", "lo_from_bytea", "loread",
    "lowrite", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
    "cursor_to_xml", "cursor_to_xmlschema", "ts_stat", "ts_rewrite", "crosstab", "connectby",
    "load_file", "sleep", "benchmark", "get_lock", "release_lock", "release_all_locks",
    "master_pos_wait", "source_pos_wait", "master_gtid_wait", "sys_exec", "sys_eval", "sys_get",
    "sys_set", "sys_bineval", "load_extension", "fts3_tokenizer", "readfile", "writefile", "edit",
))
# PostgreSQL's server functions start with pg_; only these harmless ones may be called.
_PG_ALLOWED = frozenset((
    "pg_typeof", "pg_column_size", "pg_size_pretty", "pg_size_bytes", "pg_relation_size",
    "pg_table_size", "pg_total_relation_size", "pg_indexes_size", "pg_database_size",
    "pg_backend_pid", "pg_is_in_recovery", "pg_postmaster_start_time", "pg_client_encoding",
    "pg_encoding_to_char",
))
_DENIED_PREFIXES = ("dblink", "crosstab", "lo_", "pg_", "wait_for_", "wait_until_")
_WRITES = tuple(getattr(exp, name) for name in (
    "DML", "DDL", "Insert", "Update", "Delete", "Merge", "Copy", "Create", "Drop", "Alter",
    "TruncateTable", "Command", "Into", "Set", "Pragma", "Use", "Transaction", "Commit",
    "Rollback", "LoadData", "Grant", "Revoke", "Attach", "Detach", "Kill", "Execute",
    "Cache", "Uncache", "Refresh", "Analyze", "Describe", "Show", "Returning",
) if hasattr(exp, name))
_READS = (exp.Select, exp.SetOperation, exp.Subquery, exp.Values)
_EXECUTABLE_COMMENT = re.compile(r"/\*M?!", re.I)


class _MySQL(MySQL):
    """MySQL as sqlglot writes it, but ``a REGEXP b`` (MariaDB has no REGEXP_LIKE)."""

    class Generator(MySQL.Generator):
        TRANSFORMS: ClassVar[dict] = {**MySQL.Generator.TRANSFORMS,
                                      exp.RegexpLike: lambda self, e: self.binary(e, "REGEXP")}


_DIALECTS = {"postgresql": "postgres", "postgres": "postgres", "mysql": _MySQL,
             "mariadb": _MySQL, "sqlite": "sqlite"}


def check_select(query: str, dialect: str = "postgresql") -> str:
    """The statement to run for ``query`` if it is one reading SELECT in ``dialect``
    (``postgresql``, ``mysql``, ``mariadb`` or ``sqlite``); otherwise a DataError that
    says what is not allowed."""
    read = _DIALECTS.get(dialect.lower())
    if read is None:
        raise DataError(f"Queries in the {dialect!r} dialect are not checked here; use "
                        "postgresql, mysql, mariadb or sqlite.")
    if read is _MySQL and _executable_comment(query):
        raise DataError("The query holds a MySQL executable comment (/*! ... */), which the "
                        "server would run; write that SQL without the comment markers.")
    tree = _one_select(query, read)
    try:  # what runs is the tree written out again; it must read back as the same check
        sql = tree.sql(dialect=read, comments=False, normalize_functions=False,
                       unsupported_level=ErrorLevel.RAISE)
        again = _one_select(sql, read).sql(dialect=read, comments=False,
                                           normalize_functions=False)
    except (SqlglotError, DataError):
        again = None
    if again != sql:
        raise DataError("The query could not be checked reliably (the SQL parser reads it in "
                        "more than one way); write it more plainly, as one SELECT.")
    return sql


def _one_select(query: str, read) -> exp.Expression:
    """The one reading statement ``query`` parses to, checked; else a DataError."""
    try:
        trees = [t for t in sqlglot.parse(query, read=read) if t is not None]
    except SqlglotError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"The query could not be read as SQL ({reason}). Check its syntax; "
                        "write one SELECT statement.") from None
    if not trees:
        raise DataError("The query is empty (or only a comment); write one SELECT statement.")
    if len(trees) > 1:
        raise DataError("The query holds more than one statement (text after ';'). Send a "
                        "single SELECT statement.")
    tree = trees[0]
    if not isinstance(tree, _READS):
        shown = (tree.key if not isinstance(tree, exp.Command) else str(tree.this)).upper()
        raise DataError(f"Only reading queries are allowed (SELECT or WITH ...), not {shown}. "
                        "The database is opened read-only.")
    _check_tree(tree)
    return tree


def _check_tree(tree: exp.Expression) -> None:
    called = set()
    for node in tree.walk():
        if isinstance(node, _WRITES):
            if isinstance(node, exp.Into):
                raise DataError("SELECT ... INTO writes a table, a variable or a file; drop "
                                "the INTO clause to read the rows.")
            raise DataError(f"The query holds {node.key.upper()}, which is not a reading "
                            "statement; only SELECT (and WITH ... SELECT) can run here.")
        if isinstance(node, exp.Lock):
            raise DataError("The query locks rows (FOR UPDATE / FOR SHARE), which blocks "
                            "other users of the database; drop the locking clause.")
        called.update(name for name in _names(node) if _denied(name))
    if called:
        raise DataError(f"The query calls {', '.join(sorted(called))}, which read or write "
                        "files on the database server, reach other servers, wait, or change "
                        "the server or its sessions; that is not allowed here.")


def _names(node: exp.Expression) -> list[str]:
    """The function names ``node`` calls: ``f(...)``, ``schema.f(...)``, ``(value).f``."""
    if isinstance(node, exp.Anonymous):
        return [node.name.lower()]
    if isinstance(node, exp.Func):
        return [n.lower() for n in node.sql_names()]
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Identifier):
        return [node.expression.name.lower()]
    return []


def _denied(name: str) -> bool:
    return name in DENIED or (name.startswith(_DENIED_PREFIXES) and name not in _PG_ALLOWED)


def _executable_comment(query: str) -> bool:
    """Whether ``/*!`` or ``/*M!`` opens a comment (not inside a string or a name)."""
    try:
        tokens = _MySQL().tokenize(query)
    except SqlglotError:
        return bool(_EXECUTABLE_COMMENT.search(query))  # unreadable: refused either way
    ends = [-1, *(t.end for t in tokens)]
    starts = [t.start for t in tokens] + [len(query)]
    gaps = (query[a + 1:b] for a, b in zip(ends, starts, strict=True))
    return any(_EXECUTABLE_COMMENT.search(gap) for gap in gaps)
