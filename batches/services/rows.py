"""The statements every page runs, written as SQL.

A page's claim and record read three rows under their locks and update up to four; the ORM spent more building
each of these statements than the database spent running it (0.5-0.75 ms against 0.16 ms for the same
update written once, bench/README.md, "The job system's cost per page"). The values still go through the
fields' own conversion (get_db_prep_save), so JSON, decimals and aware datetimes are stored exactly as the
ORM stores them.
"""

from django.db import connection


def locked_row(model, fields: tuple[str, ...], where: str, params: list, extra: str = ""):
    """The row of `model` that `where` selects (None if none) with `fields` and the `extra` select
    expressions, under the row lock of the database (SQLite, one writer at a time, has none). Manager.raw
    still converts the fields' values."""
    columns = ", ".join(_column(model, name) for name in fields)
    lock = connection.ops.for_update_sql() if connection.features.has_select_for_update else ""
    sql = f"SELECT {columns}{extra} FROM {model._meta.db_table} WHERE {where} {lock}"
    return next(iter(model.objects.raw(sql, params)), None)


def update_rows(model, pks: list[int], values: dict, *, increments: tuple[str, ...] = (), where: str = "",
                params: tuple = ()) -> int:
    """Sets `values` ({field name: value}) and adds 1 to the `increments` fields in the rows of `model` with
    these primary keys that also match `where` (SQL with `params`). Returns the number of rows matched (the
    ORM's update answers the same)."""
    if not pks:
        return 0
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in values]
    assignments = [f"{quote(field.column)} = %s" for field in fields]
    for name in increments:
        column = quote(_column(model, name))
        assignments.append(f"{column} = {column} + 1")
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "
           f"WHERE {quote(meta.pk.column)} IN ({', '.join(['%s'] * len(pks))}) {where}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(field.get_db_prep_save(values[field.name], connection) for field in fields),
                             *pks, *params])
        return cursor.rowcount


def _column(model, name: str) -> str:
    return model._meta.pk.column if name == "pk" else model._meta.get_field(name).column
