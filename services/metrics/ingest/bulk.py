"""Batch statements: inserts from one array per column, membership in one array.

An executemany binds and converts every row's parameters in Python, row by row; one array
per column makes a batch of 500 rows one statement with a handful of parameters. Statements
run per batch are built once (module constants, with named parameters) and executed with
their values: building a statement and its cache key costs more than running it, and a
constant SQL text keeps its server-side prepared statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, Insert, insert


def insert_from_arrays(table: Table, names: Sequence[str]) -> Insert:
    """``INSERT INTO table (names) SELECT * FROM unnest(:<table>_<name>, ...)``.

    Execute it with :func:`arrays`. JSONB values are given as JSON text and cast in SQL.
    Strings travel as ``text[]``: a cast to ``varchar(n)[]`` would silently truncate, where
    inserting into the column refuses an over-long value as a plain insert does. Conflict
    clauses, RETURNING and ``.cte()`` chain on as on any PostgreSQL insert.
    """
    parameters, columns = [], []
    for name in names:
        column_type = table.c[name].type
        is_json = isinstance(column_type, JSONB)
        element_type = Text() if isinstance(column_type, JSONB | String) else column_type
        parameters.append(bindparam(f"{table.name}_{name}", type_=ARRAY(element_type)))
        columns.append((name, is_json))
    source = func.unnest(*parameters).table_valued(*names).render_derived(name="source")
    selected = [cast(source.c[n], JSONB) if is_json else source.c[n] for n, is_json in columns]
    return insert(table).from_select(list(names), select(*selected))


def arrays(
    table: Table, rows: Sequence[dict[str, Any]], names: Sequence[str]
) -> dict[str, list[Any]]:
    """The parameters of :func:`insert_from_arrays` for ``rows`` (dicts keyed by ``names``);
    named after the table, so inserts into several tables can share one statement."""
    return {f"{table.name}_{name}": [row[name] for row in rows] for name in names}


def any_of(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``column = ANY(:name)``: membership in one array parameter.

    An expanding ``IN`` renders one placeholder per value, so each list length is a new SQL
    text — parsed, planned and prepared again by the server.
    """
    element_type = Text() if isinstance(column.type, String) else column.type
    return column == any_(bindparam(name, type_=ARRAY(element_type)))
