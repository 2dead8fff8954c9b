"""Pre-tokenised full-text search that behaves the same on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

A searchable record keeps one `search_text` column of space-separated tokens built by `index_tokens()`:
Han unigrams and bigrams, full pinyin and initials (every reading of the first character, so 曾/单 surnames
are found by each reading), lower-case Latin words, phone digits and the reversed phone (for "last 4 digits"),
and e-mail parts. A query is parsed once into an AND of OR-groups of (token, is_prefix) and rendered to
FTS5 MATCH syntax or to a tsquery; the `fts` lookup on `SearchTextField` picks the right one per database.
Queries of three or more Han characters are matched by their bigrams and then rechecked by the caller.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import F, Lookup
from django.db.models.expressions import RawSQL
from pypinyin import Style, pinyin

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
_SPLIT = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+)")
_PHONE_QUERY = re.compile(r"\+?[\d\s().-]+")  # "+86 138-1234-5678": one number, not three words
REVERSED_PREFIX = "r"  # reversed phone tokens start with "r" so that "r8765*" finds numbers ending in 5678


@lru_cache(maxsize=65536)
def _readings(char: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(pinyin(char, style=Style.NORMAL, heteronym=True)[0]))


@lru_cache(maxsize=65536)
def _default_reading(char: str) -> str:
    return pinyin(char, style=Style.NORMAL)[0][0]


def pinyin_forms(han: str) -> list[tuple[str, str]]:
    """(full pinyin, initials) for each reading of the first character; the rest take their usual reading."""
    if not han:
        return []
    rest = [_default_reading(c) for c in han[1:]]
    forms = []
    for first in _readings(han[0]):
        syllables = [first, *rest]
        forms.append(("".join(syllables), "".join(s[0] for s in syllables if s)))
    return forms


def _han_tokens(run: str) -> list[str]:
    tokens = list(run)
    tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    for full, initials in pinyin_forms(run):
        tokens.extend((full, initials))
    return tokens


def text_tokens(value: str | None) -> list[str]:
    if not value:
        return []
    return list(_text_tokens(value))


@lru_cache(maxsize=16384)
def _text_tokens(value: str) -> tuple[str, ...]:
    # Cached: a company's name is tokenised again for each of its contacts, and people's names repeat.
    tokens: list[str] = []
    for piece in _SPLIT.findall(value.lower()):
        if _HAN.fullmatch(piece):
            tokens.extend(_han_tokens(piece))
        else:
            tokens.append(piece)
    return tuple(tokens)


def phone_tokens(normalised_phone: str | None) -> list[str]:
    if not normalised_phone:
        return []
    return [normalised_phone, REVERSED_PREFIX + normalised_phone[::-1]]


def email_tokens(normalised_email: str | None) -> list[str]:
    if not normalised_email or "@" not in normalised_email:
        return []
    local, _, domain = normalised_email.partition("@")
    return ["".join(_WORD.findall(local)), *_WORD.findall(local), *_WORD.findall(domain)]


def index_tokens(*, texts=(), phones=(), emails=()) -> str:
    tokens: list[str] = []
    for value in texts:
        if value:
            tokens.extend(_text_tokens(value))
    for value in phones:
        tokens.extend(phone_tokens(value))
    for value in emails:
        tokens.extend(email_tokens(value))
    return " ".join(dict.fromkeys(t for t in tokens if t))


@dataclass(frozen=True)
class ParsedQuery:
    """An AND of groups; each group is an OR of (token, is_prefix). `han_rechecks` need a substring recheck."""

    groups: tuple[tuple[tuple[str, bool], ...], ...]
    han_rechecks: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.groups)

    def to_fts5(self) -> str:
        def alt(token, prefix):
            return f'"{token}"*' if prefix else f'"{token}"'

        return " AND ".join("(" + " OR ".join(alt(t, p) for t, p in group) + ")" for group in self.groups)

    def to_tsquery(self) -> str:
        def alt(token, prefix):
            return f"'{token}':*" if prefix else f"'{token}'"

        return " & ".join("(" + " | ".join(alt(t, p) for t, p in group) + ")" for group in self.groups)


def parse_query(raw: str | None) -> ParsedQuery:
    from kehu.core.text import fold, normalise_phone

    groups: list[tuple[tuple[str, bool], ...]] = []
    rechecks: list[str] = []
    text = fold(raw).lower()
    if _PHONE_QUERY.fullmatch(text) and normalise_phone(text):
        text = normalise_phone(text)
    for piece in _SPLIT.findall(text):
        if _HAN.fullmatch(piece):
            if len(piece) <= 2:
                groups.append(((piece, False),))
            else:
                groups.extend(((piece[i : i + 2], False),) for i in range(len(piece) - 1))
                rechecks.append(piece)
        elif piece.isdigit():
            if len(piece) < 3:
                groups.append(((piece, True),))
            else:
                groups.append(((piece, True), (REVERSED_PREFIX + piece[::-1], True)))
        else:
            groups.append(((piece, True),))
    return ParsedQuery(groups=tuple(dict.fromkeys(groups)), han_rechecks=tuple(rechecks))


def search_filter(queryset, raw: str, *, recheck: tuple[str, ...]):
    """The rows of `queryset` whose search tokens match `raw`. A Han run longer than two characters is matched by
    its bigrams, so each such run is rechecked as a substring of one of the `recheck` fields."""
    from django.db.models import Q

    parsed = parse_query(raw)
    if not parsed:
        return queryset.none()
    queryset = queryset.filter(search_text__fts=parsed)
    for han in parsed.han_rechecks:
        match = Q()
        for name in recheck:
            match |= Q(**{f"{name}__contains": han})
        queryset = queryset.filter(match)
    return queryset


class SearchTextField(models.TextField):
    """The tokenised column. On SQLite an FTS5 table `<db_table>_fts` mirrors it through triggers; on
    PostgreSQL a stored generated column `search_vector` (its tsvector) carries a GIN index. Django does not
    know that column: the database computes it on every write (see `fts_operations()`)."""


@SearchTextField.register_lookup
class FullTextMatch(Lookup):
    lookup_name = "fts"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        query: ParsedQuery = self.rhs
        if connection.vendor == "postgresql":
            vector = f"{compiler.quote_name_unless_alias(self.lhs.alias)}.{SEARCH_VECTOR}"
            return f"{vector} @@ to_tsquery('simple'::regconfig, %s)", [query.to_tsquery()]
        if connection.vendor == "sqlite":
            model = self.lhs.target.model
            table = connection.ops.quote_name(f"{model._meta.db_table}_fts")
            pk = connection.ops.quote_name(model._meta.pk.column)
            alias = compiler.quote_name_unless_alias(self.lhs.alias)
            return f"{alias}.{pk} IN (SELECT rowid FROM {table} WHERE {table} MATCH %s)", [query.to_fts5()]
        raise NotImplementedError(f"full-text search is not implemented for {connection.vendor}")


def fts_operations(table: str, column: str = "search_text"):
    """Migration operations that create the full-text structures for `table` on whichever database runs them."""
    sqlite_sql = [
        f"CREATE VIRTUAL TABLE {table}_fts USING fts5({column}, content='{table}', content_rowid='id', "
        f"tokenize='unicode61', prefix='1 2 3 4')",
        f"CREATE TRIGGER {table}_fts_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {table}_fts(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"CREATE TRIGGER {table}_fts_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {table}_fts({table}_fts, rowid, {column}) VALUES ('delete', old.id, old.{column}); END",
        f"CREATE TRIGGER {table}_fts_au AFTER UPDATE OF {column} ON {table} BEGIN "
        f"INSERT INTO {table}_fts({table}_fts, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
        f"INSERT INTO {table}_fts(rowid, {column}) VALUES (new.id, new.{column}); END",
    ]
    sqlite_reverse = [
        f"DROP TRIGGER IF EXISTS {table}_fts_au",
        f"DROP TRIGGER IF EXISTS {table}_fts_ad",
        f"DROP TRIGGER IF EXISTS {table}_fts_ai",
        f"DROP TABLE IF EXISTS {table}_fts",
    ]
    return [
        _per_vendor(
            {"sqlite": sqlite_sql, "postgresql": _search_vector_sql(table, column)},
            {
                "sqlite": sqlite_reverse,
                "postgresql": [*_search_vector_reverse(table), _drop_expression_index(table)],
            },
        )
    ]


def search_vector_operations(table: str, column: str = "search_text"):
    """Migration operations that move a PostgreSQL table from the GIN index over the expression
    to_tsvector('simple', search_text), which `fts_operations()` created at first, to the stored
    `search_vector` column and its GIN index. Each statement is idempotent, so on a table that
    `fts_operations()` created in its present form nothing changes. The old index is dropped first so that
    the table rewrite (adding a stored column rewrites the table and rebuilds its indexes) does not rebuild
    it; ANALYZE then gives the planner the column's token frequencies. Does nothing on SQLite."""
    recreate_old = (
        f"CREATE INDEX IF NOT EXISTS {table}_fts_gin ON {table} "
        f"USING gin (to_tsvector('simple'::regconfig, {column}))"
    )
    return [
        _per_vendor(
            {"postgresql": [_drop_expression_index(table), *_search_vector_sql(table, column)]},
            {"postgresql": [*_search_vector_reverse(table), recreate_old]},
        )
    ]


SEARCH_VECTOR = "search_vector"  # PostgreSQL only: to_tsvector('simple', search_text), stored


def _search_vector_sql(table: str, column: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {SEARCH_VECTOR} tsvector "
        f"GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {column})) STORED",
        f"CREATE INDEX IF NOT EXISTS {table}_{SEARCH_VECTOR}_gin ON {table} USING gin ({SEARCH_VECTOR})",
        f"ANALYZE {table}",
    ]


def _search_vector_reverse(table: str) -> list[str]:
    return [
        f"DROP INDEX IF EXISTS {table}_{SEARCH_VECTOR}_gin",
        f"ALTER TABLE {table} DROP COLUMN IF EXISTS {SEARCH_VECTOR}",
    ]


def _drop_expression_index(table: str) -> str:
    return f"DROP INDEX IF EXISTS {table}_fts_gin"


def _per_vendor(forward: dict[str, list[str]], reverse: dict[str, list[str]]):
    """A RunPython that executes the statements listed for the database it runs on, and nothing elsewhere."""
    from django.db import migrations

    def run(statements):
        def apply(apps, schema_editor):
            for sql in statements.get(schema_editor.connection.vendor, []):
                schema_editor.execute(sql)

        return apply

    return migrations.RunPython(run(forward), run(reverse))


RECENT_ROWS = 20_000  # SQLite: the newest rows of a table whose matches `newest_matches()` reads first


def newest_matches(queryset, parsed: ParsedQuery, limit: int):
    """The newest `limit` rows of `queryset` that match `parsed`, newest first, as one query.

    SQLite: `fts` materialises every matching rowid before the newest can be taken (科技 is in 16% of the
    names: 160,000 rowids, 60-100 ms). FTS5 takes a rowid range as well, so the query first looks at the
    matches among the newest RECENT_ROWS rows of the table, and at the older matches only when fewer than
    `limit` of those pass the other filters: a UNION ALL under a LIMIT does not start its second part once
    the first has filled it. The parts never overlap and each keeps its order, so the rows are exactly those
    of one query over all matches. A common term is answered from the recent rows; a rare one costs a little
    more than one query over all its matches (two range-bounded FTS5 lookups instead of one), and so does a
    common one that the other filters mostly reject.

    PostgreSQL: ordered by the bare primary key, the planner chooses between walking the key index backwards,
    testing `search_vector` on each row until enough match, and collecting the matches from the GIN index
    and sorting them. The column's statistics give it the frequency of each exact token, so it walks when it
    expects enough matches soon (科技, 公司; 旭日 for an admin: ~5,000 rows) and otherwise uses the index, but
    every prefix term (pinyin initials, phone digits) gets the same guess, and walking for a rare prefix reads
    the whole table (seconds). Queries with
    a prefix term of two or more characters are therefore ordered by `pk + 0`, which the key index cannot
    serve, so the matches come from the GIN index; ordering every query that way would send common tokens
    through the index too (科技: over a second). The planner also takes a sales rep's data scope for far wider
    than it is (an OR with a subquery is guessed at 50%), so for a rare exact token it may still walk: 旭日 for a
    rep who sees 7.5% of the customers walks ~93,000 of them."""
    vendor = connections[queryset.db].vendor
    if vendor == "sqlite":
        return _newest_matches_sqlite(queryset, parsed, limit)
    matching = queryset.filter(search_text__fts=parsed)
    if vendor == "postgresql" and any(
        prefix and len(token) >= 2 for group in parsed.groups for token, prefix in group
    ):
        return matching.order_by((F("pk") + 0).desc())[:limit]
    return matching.order_by("-pk")[:limit]


def _newest_matches_sqlite(queryset, parsed: ParsedQuery, limit: int):
    quote = connections[queryset.db].ops.quote_name
    meta = queryset.model._meta
    fts = quote(f"{meta.db_table}_fts")
    boundary = f"(SELECT max({quote(meta.pk.column)}) - {RECENT_ROWS} FROM {quote(meta.db_table)})"
    match = parsed.to_fts5()

    def newest(comparison: str):
        rowids = RawSQL(  # noqa: S611 - quoted names and a constant; the query text is a parameter
            f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s AND rowid {comparison} {boundary}", [match]
        )
        ids = queryset.filter(pk__in=rowids).order_by("-pk").values("pk")[:limit]
        return ids.query.get_compiler(using=queryset.db).as_sql()

    try:
        (recent, recent_params), (older, older_params) = newest(">"), newest("<=")
    except EmptyResultSet:  # the filter can match nothing (a scope that reaches no record)
        return queryset.none()
    # Each part is a subquery so that it keeps its order (SQLite allows ORDER BY only after the last part).
    ids = RawSQL(  # noqa: S611 - SQL compiled by the ORM, with its parameters
        f"SELECT * FROM ({recent}) UNION ALL SELECT * FROM ({older}) LIMIT {limit}",
        (*recent_params, *older_params),
    )
    return queryset.filter(pk__in=ids).order_by("-pk")
