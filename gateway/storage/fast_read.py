"""Reads on a caller's path, run on the DBAPI cursor.

A SELECT through a Session costs about 160 µs of CPU and through a Core connection about
80 µs, against 12 µs for the same query on the pooled driver connection
(``bench/sql_overhead.py``): SQLAlchemy's per-execution work (cache key, execution context,
result object) is most of a USSD step's reads. :class:`FastRead` keeps SQLAlchemy for what
it is good at here (building and compiling the statement, once per dialect; the column
types' conversions) and runs the compiled SQL on the cursor itself.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Dialect
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from gateway.storage.database import Database, attach


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # the order of a positional paramstyle's parameters
    defaults: dict[str, Any]  # values written into the statement (``kind != 'otp'``)
    to_db: dict[str, Callable[[Any], Any]]


class FastRead:
    """One Core ``SELECT`` with named bind parameters, compiled once per dialect and run on
    the driver's cursor; rows come back as plain tuples with each column's type applied.
    Expanding ``IN`` parameters are not supported (they are rendered per call)."""

    def __init__(self, statement: Select):
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        # each column's conversion of what the driver returns, once its type code is known
        self._from_db: dict[str, tuple[Callable[[Any], Any] | None, ...]] = {}

    def rows(self, where: Database | Session, **params: Any) -> list[tuple]:
        """All rows, on a pooled connection of ``where`` (a Database) or inside the
        transaction of ``where`` (a Session: reads what it wrote, holds what it locked)."""
        if isinstance(where, Session):
            connection = where.connection()
            return self._run(connection.dialect, connection.connection, params)
        dialect, raw = where.engine.dialect, where.engine.raw_connection()
        try:
            return self._run(dialect, raw, params)
        except DBAPIError as exc:
            if exc.connection_invalidated or dialect.is_disconnect(exc.orig, raw, None):
                raw.invalidate(exc.orig)
            raise
        finally:
            raw.close()  # back to the pool, which ends the transaction

    def first(self, where: Database | Session, **params: Any) -> tuple | None:
        found = self.rows(where, **params)
        return found[0] if found else None

    def scalar(self, where: Database | Session, **params: Any) -> Any:
        row = self.first(where, **params)
        return row[0] if row else None

    def _run(self, dialect: Dialect, raw, params: dict[str, Any]) -> list[tuple]:
        compiled = self._compile(dialect)
        values = {**compiled.defaults, **params}
        for name, convert in compiled.to_db.items():
            values[name] = convert(values[name])
        bound = tuple(values[name] for name in compiled.positions) \
            if compiled.positions is not None else values
        cursor = raw.cursor()
        try:
            cursor.execute(compiled.sql, bound)
            found = cursor.fetchall() if cursor.description else []
            from_db = self._from_db.get(dialect.name)
            if from_db is None and cursor.description:
                from_db = self._from_db[dialect.name] = tuple(
                    column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                    for column, described in zip(self.statement.selected_columns,
                                                 cursor.description, strict=True))
        except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy would raise it
            raise DBAPIError.instance(compiled.sql, None, exc, dialect.loaded_dbapi.Error,
                                      hide_parameters=True, dialect=dialect) from exc
        finally:
            cursor.close()
        if not from_db or not any(from_db):
            return [tuple(row) for row in found]
        return [tuple(value if convert is None or value is None else convert(value)
                      for convert, value in zip(from_db, row, strict=True))
                for row in found]

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            sql = self.statement.compile(dialect=dialect)
            to_db = {}
            if any(bind.expanding for bind in sql.binds.values()):
                raise ValueError("FastRead runs no IN (...) parameter: its SQL is per call")
            for name, bind in sql.binds.items():
                convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if convert is not None:
                    to_db[name] = convert
            compiled = self._compiled[dialect.name] = _Compiled(
                str(sql), tuple(sql.positiontup) if sql.positional else None,
                {name: bind.effective_value for name, bind in sql.binds.items()
                 if not bind.required}, to_db)
        return compiled


def columns_of(*models: type) -> list[Column]:
    """Every column of each model's table, in order: ``select(*columns_of(A, B))`` reads
    rows that :func:`attach_row` turns back into objects."""
    return [column for model in models for column in model.__table__.columns]


def attach_row(session: Session, models: tuple[type, ...], row: tuple) -> list[Any]:
    """The objects of a row read by ``select(*columns_of(*models))``, made persistent
    objects of ``session`` as if it had loaded them (an object it already holds is used
    as it is)."""
    found, at = [], 0
    for model in models:
        mapper = sa_inspect(model)
        columns = model.__table__.columns
        values = dict(zip((mapper.get_property_by_column(c).key for c in columns),
                          row[at:at + len(columns)], strict=True))
        at += len(columns)
        key = mapper.identity_key_from_primary_key([values[p.key] for p in mapper.primary_key])
        held = session.identity_map.get(key)
        found.append(held if held is not None else attach(session, model, values))
    return found
