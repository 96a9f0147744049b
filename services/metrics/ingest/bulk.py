"""Batch inserts as ``INSERT ... SELECT FROM unnest(arrays)``.

An executemany binds and converts every row's parameters in Python, row by row; one array
per column makes a batch of 500 rows one statement with a handful of parameters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, String, Table, Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB, Insert, insert


def insert_rows(table: Table, rows: list[dict[str, Any]]) -> Insert:
    """An INSERT of ``rows`` (dicts with the same keys) from one array per column.

    JSONB values are given as JSON text and cast in SQL. Strings travel as ``text[]``: a cast
    to ``varchar(n)[]`` would silently truncate, where inserting into the column refuses an
    over-long value as a plain insert does. Conflict clauses and RETURNING chain on as on
    any PostgreSQL insert.
    """
    names = list(rows[0])
    arrays, columns = [], []
    for name in names:
        column_type = table.c[name].type
        is_json = isinstance(column_type, JSONB)
        element_type = Text() if isinstance(column_type, JSONB | String) else column_type
        values = [row[name] for row in rows]
        arrays.append(bindparam(f"{name}_values", values, type_=ARRAY(element_type)))
        columns.append((name, is_json))
    source = func.unnest(*arrays).table_valued(*names).render_derived(name="source")
    selected = [cast(source.c[n], JSONB) if is_json else source.c[n] for n, is_json in columns]
    return insert(table).from_select(names, select(*selected))
