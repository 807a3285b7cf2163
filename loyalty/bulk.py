"""Set-based writes whose statement count does not grow with the number of rows.

Django's ``bulk_update`` and ``bulk_create`` split their work into batches sized by the database's
parameter limit (999 on SQLite), so a batch job would issue more statements as a shop grows.
These helpers send all rows as one JSON document instead: PostgreSQL reads it with
``jsonb_to_recordset``, SQLite with ``json_each``. Only PostgreSQL and SQLite are supported.
The SQL is assembled only from quoted names of model metadata; every value travels as a parameter
(hence the S608 exemptions).
"""

import json

from django.db import connection, models


def _prepared(field: models.Field, obj: models.Model):
    if isinstance(field, models.JSONField):
        # Travels inside the JSON document as itself, so the column receives the object, not its text.
        return getattr(obj, field.attname)
    value = field.get_db_prep_save(getattr(obj, field.attname), connection)
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _source(fields: list[models.Field], rows: list[list]) -> tuple[str, list]:
    """A FROM clause yielding one row per item of ``rows``, with columns named after ``fields``."""
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        spec = ", ".join(f"{qn(field.column)} {field.db_type(connection)}" for field in fields)
        document = [{field.column: value for field, value in zip(fields, row, strict=True)} for row in rows]
        return f"jsonb_to_recordset(%s::jsonb) AS v({spec})", [json.dumps(document)]
    columns = ", ".join(
        f"json_extract(value, '$[{i}]') AS {qn(field.column)}" for i, field in enumerate(fields)
    )
    return f"(SELECT {columns} FROM json_each(%s)) AS v", [json.dumps(rows)]  # noqa: S608


def bulk_set(model: type[models.Model], objs: list[models.Model], field_names: list[str]) -> None:
    """``UPDATE`` each object's ``field_names`` to its in-memory values, in one statement."""
    if not objs:
        return
    qn = connection.ops.quote_name
    meta = model._meta
    fields = [meta.pk] + [meta.get_field(name) for name in field_names]
    source, params = _source(fields, [[_prepared(field, obj) for field in fields] for obj in objs])
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in fields[1:])
    with connection.cursor() as cursor:
        sql = f"UPDATE {table} SET {assignments} FROM {source} WHERE {table}.{pk} = v.{pk}"  # noqa: S608
        cursor.execute(sql, params)


def bulk_insert(model: type[models.Model], objs: list[models.Model], field_names: list[str]) -> None:
    """``INSERT`` the objects' ``field_names`` in one statement (primary keys are not read back)."""
    if not objs:
        return
    qn = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in field_names]
    source, params = _source(fields, [[_prepared(field, obj) for field in fields] for obj in objs])
    columns = ", ".join(qn(field.column) for field in fields)
    selected = ", ".join(f"v.{qn(field.column)}" for field in fields)
    with connection.cursor() as cursor:
        sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) SELECT {selected} FROM {source}"  # noqa: S608
        cursor.execute(sql, params)
