"""Reading the columns of a parquet file or a directory of parquet shards as one pyarrow table.

:meth:`Interactions.from_parquet` and :func:`load_interactions` both read
parquet through :func:`read_parquet_columns`, so a directory of shards gets
the same projection and the same errors whichever entry point is used.
"""

from pathlib import Path

#: shards named in the errors, at most
_SHOWN = 3


def _shard_name(root, file):
    """A shard's path relative to the directory read, as the errors show it."""
    try:
        return str(Path(file).relative_to(root))
    except ValueError:
        return str(file)


def _common_type(types):
    """The type all of ``types`` widen to without changing kind (int32 and int64: int64), else None."""
    import pyarrow as pa

    if None in types:
        return None
    families = (pa.types.is_integer, pa.types.is_floating, pa.types.is_timestamp,
                lambda kind: pa.types.is_string(kind) or pa.types.is_large_string(kind))
    for family in families:
        if all(family(kind) for kind in types):
            try:
                common = pa.unify_schemas([pa.schema([pa.field("c", kind)]) for kind in types],
                                          promote_options="permissive").field("c").type
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                return None
            return common if family(common) else None
    return None


def _column_types(dataset, root, columns):
    """column -> its type in the shards (None: absent) -> the shards that have it so."""
    by_type = {column: {} for column in columns}
    for fragment in dataset.get_fragments():
        schema = fragment.physical_schema
        for column in columns:
            kind = schema.field(column).type if column in schema.names else None
            by_type[column].setdefault(kind, []).append(_shard_name(root, fragment.path))
    return by_type


def _agreed_schema(by_type, root):
    """The schema of the columns that every shard can be read as; raise when the shards disagree.

    pyarrow takes the schema of a dataset from one shard: a shard without a
    column would be read as nulls (then reported as missing ids), and one
    with another type fails with a cast error that names no shard. Types of
    one kind (int32 and int64, string and large_string) are read as the
    wider one; ids never change kind (an int id never becomes a float).
    """
    import pyarrow as pa

    fields = []
    for column, types in by_type.items():
        common = _common_type(list(types))
        if common is not None:
            fields.append(pa.field(column, common))
            continue
        described = "; ".join(
            f"{'absent' if kind is None else kind} in {len(shards)} shard(s) "
            f"({', '.join(shards[:_SHOWN])}{', ...' if len(shards) > _SHOWN else ''})"
            for kind, shards in types.items())
        raise ValueError(
            f"the parquet shards at {root} disagree on column {column!r}: {described}. Rewrite them "
            "with one schema, or read the shards that share one (pass their directory or file)."
        )
    return pa.schema(fields)


def read_parquet_columns(path, columns):
    """The named columns of a parquet file or directory of shards, as one ``pyarrow.Table``.

    Parameters
    ----------
    path : str or path
        A parquet file, or a directory whose parquet files (searched
        recursively; names starting with ``.`` or ``_``, such as Spark's
        ``_SUCCESS`` and ``.crc`` files, are skipped) hold the columns.
    columns : list of str
        The columns read; the others are never read.

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    FileNotFoundError
        When path does not exist.
    ValueError
        When a directory holds no parquet file, a file is not parquet, or
        the shards disagree on a column (one lacks it, or gives it a type
        that cannot be read as the others').
    KeyError
        When a column is missing; the message lists the columns there are.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist; give a parquet file or a directory of parquet shards.")
    try:
        dataset = ds.dataset(root, format="parquet")
    except pa.ArrowInvalid as error:
        raise ValueError(
            f"cannot read {root} as parquet ({error}). A directory must hold parquet files only, "
            "besides names starting with '.' or '_'."
        ) from None
    if not dataset.files:
        raise ValueError(
            f"the directory {root} holds no parquet file (searched recursively; names starting with "
            "'.' or '_' are skipped). Point to the directory the shards were written to."
        )
    by_type = _column_types(dataset, root, columns) if len(dataset.files) > 1 else None
    missing = [column for column in columns
               if (column not in dataset.schema.names if by_type is None else list(by_type[column]) == [None])]
    if missing:
        raise KeyError(
            f"column(s) {missing} are not in the parquet data at {root}; its columns are "
            f"{dataset.schema.names}. Pass user_col=, item_col=, ... naming its columns."
        )
    if by_type is not None:
        dataset = ds.dataset(root, format="parquet", schema=_agreed_schema(by_type, root))
    try:
        return dataset.to_table(columns=columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise ValueError(f"cannot read the columns {columns} of the parquet data at {root}: {error}") from None
