"""The knowledge base (知识库): problems and their solutions in Chinese and English, internal or public, with the
text of every saved version and their files. Articles are found by the same search as customers (Chinese words,
pinyin, initials), suggested while an agent types a ticket, linked to tickets, and count the tickets they solved.

Who reads: every active member of staff reads published articles, internal and public alike (sales reps answer
customers' questions too); editors see drafts as well. Who edits: system admins and users who hold the
service-agent or manager role in any unit. The knowledge base is the company's, not a unit's, so no unit scope
applies. Outside the staff only public, published articles are shown. Linking an article to a ticket and saying
it solved the ticket are work on the ticket: `services.may_work` decides.
"""

import os
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.services import upload_check
from kehu.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from kehu.core.pagination import Page, keyset_page
from kehu.core.records import (
    assign_fields,
    check_version,
    move_to_recycle_bin,
    record_id,
    restore_from_recycle_bin,
    save_audited,
    validate,
)
from kehu.core.search import ParsedQuery, index_tokens, parse_query, search_filter
from kehu.core.text import fold
from kehu.support import selectors, services
from kehu.support.models import Article, ArticleAttachment, ArticleVersion, Ticket, TicketArticle
from kehu.users import scoping
from kehu.users.models import Role, User

EDITOR_ROLES = frozenset({Role.SERVICE_AGENT, Role.MANAGER})
FIELDS = {"title", "problem", "solution", "language", "category", "visibility"}
CREATE_FIELDS = FIELDS | {"translation_of"}
RECHECK = ("title", "problem", "solution")  # where a Chinese query of three or more characters must appear
SORTS = {"solved": ["-solved_count", "-id"], "newest": ["-id"]}
WINDOW = 4  # pinyin is indexed for every run of up to this many Han characters of the title and problem
SUGGEST_TERMS = 32  # words of a ticket's text looked up at most
SUGGEST_CANDIDATES = 100  # matching articles scored at most (the most helpful first)
# Bigrams with these characters, and these words, say little about what a ticket is about (的货, 了吗, 客户 …).
FILLER = frozenset("的了吗呢吧啊呀哦嘛我你您他她它们是在有和与就都也还很又这那个么")
COMMON = frozenset(
    [
        "客户",
        "收到",
        "您好",
        "请问",
        "谢谢",
        "怎么",
        "什么",
        "可以",
        "没有",
        "一下",
        "问题",
        "已经",
        "现在",
        "因为",
        "所以",
        "但是",
        "如果",
        "一直",
        "今天",
        "需要",
    ]
)
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
S = Article.Status
V = Article.Visibility


# --- who may do what ----------------------------------------------------------------------------------------------


def may_read(actor: User) -> bool:
    return bool(actor.is_authenticated and actor.is_active)


def may_edit(actor: User) -> bool:
    """Write, publish, attach files, delete: system admins, service agents and managers (analysts never)."""
    if not may_read(actor):
        return False
    scope = scoping.scope_for(actor)
    return not scope.read_only and (scope.is_system_admin or bool(scope.roles & EDITOR_ROLES))


# --- selectors ----------------------------------------------------------------------------------------------------


@dataclass
class ArticleFilters:
    q: str = ""
    status: str = ""
    visibility: str = ""
    language: str = ""
    category: int | None = None
    sort: str = "solved"

    @classmethod
    def from_params(cls, params) -> "ArticleFilters":
        def text(name) -> str:
            return str(params.get(name) or "").strip()

        def one_of(name, choices, default="") -> str:
            value = text(name) or default
            if value and value not in choices:
                raise ValidationFailed(
                    fields={name: _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}}
                )
            return value

        category = text("category")
        if category and not category.isdigit():
            raise ValidationFailed(fields={"category": _("Enter a number (an id).")})
        return cls(
            q=text("q")[:200],
            status=one_of("status", S.values),
            visibility=one_of("visibility", V.values),
            language=one_of("language", Article.Language.values),
            category=int(category) if category else None,
            sort=one_of("sort", list(SORTS), "solved"),
        )


def article_scope(actor: User) -> QuerySet:
    """The articles the actor reads: published ones, and drafts too for editors."""
    if not may_read(actor):
        return Article.objects.none()
    articles = Article.objects.all()
    return articles if may_edit(actor) else articles.filter(status=S.PUBLISHED)


def article_get_for(*, actor: User, article_id) -> Article:
    article = (
        article_scope(actor)
        .select_related("category", "translation_of", "created_by", "updated_by")
        .filter(pk=record_id(article_id))
        .first()
    )
    if article is None:
        raise NotFound()
    return article


def _filtered(actor: User, filters: ArticleFilters) -> QuerySet:
    articles = article_scope(actor)
    if filters.q:
        articles = search_filter(articles, filters.q, recheck=RECHECK)
    exact = {"status": filters.status, "visibility": filters.visibility, "language": filters.language}
    articles = articles.filter(**{k: v for k, v in exact.items() if v})
    if filters.category:
        articles = articles.filter(category_id__in=selectors.category_and_below(filters.category))
    return articles


def article_list(*, actor: User, filters: ArticleFilters, cursor: str | None = None, size: int = 25) -> Page:
    articles = _filtered(actor, filters).select_related("category", "created_by", "updated_by")
    return keyset_page(articles, ordering=SORTS[filters.sort], cursor=cursor, size=min(max(size, 1), 200))


def article_search(*, actor: User, q: str, limit: int = 10, published: bool = False) -> list[Article]:
    """Articles by Chinese words, pinyin or initials of their title, problem and solution; the most helpful
    (most tickets solved) first. `published` leaves out an editor's drafts (for linking to a ticket)."""
    if not parse_query(q):
        return []
    articles = article_scope(actor).filter(status=S.PUBLISHED) if published else article_scope(actor)
    found = search_filter(articles, q, recheck=RECHECK)
    return list(found.select_related("category").order_by("-solved_count", "-id")[:limit])


def _terms(text: str) -> list[tuple[str, bool]]:
    """The words of a ticket's text worth looking up: Chinese bigrams without filler characters and Latin words,
    as the search parses them (a sentence without spaces is a run of bigrams)."""
    terms = []
    for group in parse_query(text).groups:
        token, prefix = group[0]
        if len(group) > 1 or token.isdigit():
            continue  # numbers: phones, order numbers
        han = _HAN_RUN.fullmatch(token)
        if len(token) < 2 or token in COMMON or (han and FILLER & set(token)):
            continue
        terms.append((token, prefix))
    return terms[:SUGGEST_TERMS]


def _score(article: Article, terms: list[tuple[str, bool]]) -> int:
    """Three points for each word in the title, two for each in the problem, one for each in the solution."""
    texts = [(3, article.title.lower()), (2, article.problem.lower()), (1, article.solution.lower())]
    return sum(points for token, _prefix in terms for points, text in texts if token in text)


def suggest_for(*, actor: User, text: str, limit: int = 5) -> list[Article]:
    """Published articles that share words with a ticket's subject and description, the best match first. One
    query: any of the words matches (the same full-text index as the search); a simple score over the title,
    problem and solution then ranks them, the most helpful first among equals."""
    terms = _terms(fold(text)[:2000])
    if not terms:
        return []
    any_word = ParsedQuery(groups=(tuple(terms),), han_rechecks=())
    candidates = list(
        article_scope(actor)
        .filter(status=S.PUBLISHED, search_text__fts=any_word)
        .select_related("category")
        .defer("search_text")
        .order_by("-solved_count", "-id")[:SUGGEST_CANDIDATES]
    )
    enough = min(3, len(terms))  # a word of the title, or more than one elsewhere: one shared word is chance
    scored = [(score, article) for article in candidates if (score := _score(article, terms)) >= enough]
    scored.sort(key=lambda pair: (-pair[0], -pair[1].solved_count, -pair[1].pk))
    return [article for _points, article in scored[:limit]]


def article_versions(*, article: Article) -> list[ArticleVersion]:
    return list(article.versions.select_related("edited_by"))


def article_version_get(*, article: Article, number) -> ArticleVersion:
    version = article.versions.filter(number=record_id(number)).first()
    if version is None:
        raise NotFound()
    return version


def article_translations(*, actor: User, article: Article) -> list[Article]:
    """The other language versions the actor reads: the original and its translations, without this one."""
    root = article.translation_of_id or article.pk
    family = article_scope(actor).filter(Q(pk=root) | Q(translation_of_id=root)).exclude(pk=article.pk)
    return list(family.order_by("language", "id"))


def attachment_get_for(*, actor: User, attachment_id) -> ArticleAttachment:
    """A file of an article the actor reads."""
    attachment = (
        ArticleAttachment.objects.filter(pk=record_id(attachment_id), article__in=article_scope(actor))
        .select_related("article")
        .first()
    )
    if attachment is None:
        raise NotFound()
    return attachment


def ticket_articles(*, actor: User, ticket: Ticket) -> list[TicketArticle]:
    """The articles linked to a ticket that the actor may read (a draft only for editors), those in the recycle
    bin left out."""
    links = ticket.article_links.filter(article__in=article_scope(actor))
    return list(links.select_related("article", "linked_by"))


def public_articles(*, q: str = "", language: str = "", limit: int = 20) -> list[Article]:
    """Public, published articles for the help pages: by search, else the most helpful; in the reader's
    language when some are written in it."""
    articles = Article.objects.filter(status=S.PUBLISHED, visibility=V.PUBLIC).select_related("category")
    if language and articles.filter(language=language).exists():
        articles = articles.filter(language=language)
    if q.strip():
        articles = search_filter(articles, q, recheck=RECHECK)
    return list(articles.order_by("-solved_count", "-id")[:limit])


def public_article_get(*, article_id) -> Article:
    article = (
        Article.objects.filter(pk=record_id(article_id), status=S.PUBLISHED, visibility=V.PUBLIC)
        .select_related("category")
        .first()
    )
    if article is None:
        raise NotFound()
    return article


def public_translations(*, article: Article) -> list[Article]:
    """The other language versions of a public article that are public and published too."""
    root = article.translation_of_id or article.pk
    family = Article.objects.filter(
        Q(pk=root) | Q(translation_of_id=root), status=S.PUBLISHED, visibility=V.PUBLIC
    )
    return list(family.exclude(pk=article.pk).order_by("language", "id"))


def deleted_articles(*, actor: User, limit: int = 200) -> list[Article]:
    """The recycle bin's articles: for system admins only."""
    if not scoping.is_system_admin(actor):
        return []
    return list(Article.all_objects.dead().select_related("deleted_by").order_by("-deleted_at")[:limit])


def deleted_article_get_for(*, actor: User, article_id) -> Article:
    article = None
    if scoping.is_system_admin(actor):
        article = Article.all_objects.dead().filter(pk=record_id(article_id)).first()
    if article is None:
        raise NotFound()
    return article


# --- services -----------------------------------------------------------------------------------------------------


def _windows(text: str) -> list[str]:
    """Every run of Han characters cut into overlapping pieces of up to WINDOW characters, so that the pinyin and
    initials of a word are indexed wherever it stands in a sentence, not only at the start of the run."""
    return [run[i : i + WINDOW] for run in _HAN_RUN.findall(text) for i in range(len(run))]


def article_derive(article: Article) -> None:
    """The search tokens (`kehu.core.search`): words, bigrams, pinyin and initials of the three texts."""
    title, problem, solution = fold(article.title), fold(article.problem), fold(article.solution)
    article.search_text = index_tokens(texts=[title, problem, solution, *_windows(title), *_windows(problem)])


def _clean(article: Article) -> None:
    article.title = (article.title or "").strip()
    article.problem = (article.problem or "").strip()
    article.solution = (article.solution or "").strip()
    if not article.title:
        raise ValidationFailed(fields={"title": _("Give the article a title.")})
    if article.is_published and not article.solution:
        raise ValidationFailed(fields={"solution": _("A published article needs its solution.")})
    validate(article, exclude=["category", "translation_of", "created_by", "updated_by", "search_text"])


def _check_translation(actor: User, article: Article) -> None:
    """A translation points to the original (never to another translation) in another language, and an original
    has one live version per language."""
    taken = _("The article already has a version in this language.")
    original = article.translation_of
    if original is None:
        if article.pk and article.translations.filter(language=article.language).exists():
            raise ValidationFailed(fields={"language": taken})
        return
    if original.translation_of_id:
        original = original.translation_of
        article.translation_of = original
    if not article_scope(actor).filter(pk=original.pk).exists():
        raise ValidationFailed(fields={"translation_of": _("Choose an article you see.")})
    if original.language == article.language:
        raise ValidationFailed(
            fields={"language": _("A translation is in another language than the original.")}
        )
    siblings = Article.objects.filter(translation_of=original, language=article.language).exclude(
        pk=article.pk
    )
    if siblings.exists():
        raise ValidationFailed(fields={"language": taken})


def _guarded(write) -> None:
    """Run a write whose row the database's rule of one version per language may refuse (a race the checks
    above did not see, or a restore next to a newer translation)."""
    try:
        with transaction.atomic():
            write()
    except IntegrityError as exc:
        raise Conflict(_("The article already has a version in this language.")) from exc


def _save(article: Article, *, actor: User, **options) -> None:
    _guarded(lambda: save_audited(article, actor=actor, **options))


def _snapshot(article: Article, actor: User) -> ArticleVersion:
    last = article.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return ArticleVersion.objects.create(
        article=article,
        number=last + 1,
        title=article.title,
        problem=article.problem,
        solution=article.solution,
        edited_by=actor,
    )


def _lock(article: Article) -> Article:
    locked = Article.objects.select_for_update().filter(pk=article.pk).first()
    if locked is None:
        raise NotFound()
    return locked


def _require_editor(actor: User) -> None:
    if not may_edit(actor):
        raise PermissionDenied()


@transaction.atomic
def article_create(*, actor: User, data: dict, publish: bool = False) -> Article:
    """A new article (a draft unless `publish`), its first version recorded. `data["translation_of"]` makes it
    a version of that article in another language."""
    _require_editor(actor)
    article = Article(created_by=actor, updated_by=actor)
    assign_fields(article, data, CREATE_FIELDS)
    if publish:
        article.status, article.published_at = S.PUBLISHED, timezone.now()
    _clean(article)
    _check_translation(actor, article)
    article_derive(article)
    _save(article, actor=actor, bump_version=False)
    _snapshot(article, actor)
    return article


@transaction.atomic
def article_update(*, actor: User, article: Article, data: dict, version: int | None) -> Article:
    """Change an article; each saved change records a version. A form opened before someone else's save is
    refused with what changed since."""
    article = _lock(article)
    _require_editor(actor)
    check_version(article, version, fields=sorted(FIELDS))
    changed = assign_fields(article, data, FIELDS)
    if not changed:
        return article
    _clean(article)
    if "language" in changed:
        _check_translation(actor, article)
    article.updated_by = actor
    article_derive(article)
    _save(article, actor=actor)
    _snapshot(article, actor)
    return article


def _set_status(actor: User, article: Article, status: str) -> Article:
    article = _lock(article)
    _require_editor(actor)
    if article.status == status:
        return article
    article.status = status
    if status == S.PUBLISHED:
        article.published_at = timezone.now()
    _clean(article)
    article.updated_by = actor
    _save(article, actor=actor, reason=status, bump_version=False)
    return article


@transaction.atomic
def article_publish(*, actor: User, article: Article) -> Article:
    """Everyone on the staff reads it from now on (and customers too when it is public)."""
    return _set_status(actor, article, S.PUBLISHED)


@transaction.atomic
def article_unpublish(*, actor: User, article: Article) -> Article:
    """Back to a draft that only editors see."""
    return _set_status(actor, article, S.DRAFT)


@transaction.atomic
def article_delete(*, actor: User, article: Article) -> None:
    """To the recycle bin, restorable by a system admin until purged; links to tickets stay with it."""
    article = _lock(article)
    _require_editor(actor)
    move_to_recycle_bin(article, actor=actor)


@transaction.atomic
def article_restore(*, actor: User, article: Article) -> Article:
    if not scoping.is_system_admin(actor):
        raise PermissionDenied()
    article = Article.all_objects.select_for_update().filter(pk=article.pk).first()
    if article is None or not article.is_deleted:
        raise NotFound()
    _guarded(lambda: restore_from_recycle_bin(article, actor=actor))
    return article


def articles_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: articles binned before `cutoff`, with their files once the rows are gone."""
    expired = Article.all_objects.filter(deleted_at__lt=cutoff)
    stored = list(ArticleAttachment.objects.filter(article__in=expired).values_list("file", flat=True))
    count = expired.delete()[0]
    storage = ArticleAttachment._meta.get_field("file").storage
    transaction.on_commit(lambda: [storage.delete(name) for name in stored])
    return count


@transaction.atomic
def article_attach(*, actor: User, article: Article, upload) -> ArticleAttachment:
    article = _lock(article)
    _require_editor(actor)
    upload_check(upload)
    return ArticleAttachment.objects.create(
        article=article,
        file=upload,
        name=os.path.basename(upload.name)[:200],
        size=upload.size,
        content_type=(getattr(upload, "content_type", "") or "")[:100],
        uploaded_by=actor,
    )


@transaction.atomic
def article_attachment_remove(*, actor: User, attachment: ArticleAttachment) -> None:
    _lock(attachment.article)
    _require_editor(actor)
    storage, stored = attachment.file.storage, attachment.file.name
    ArticleAttachment.objects.filter(pk=attachment.pk).delete()
    transaction.on_commit(lambda: storage.delete(stored))  # the file goes only once the row is gone for sure


def _check_linkable(actor: User, ticket: Ticket, article: Article) -> None:
    if not services.may_work(actor, ticket):
        raise PermissionDenied()
    if not article_scope(actor).filter(pk=article.pk, status=S.PUBLISHED).exists():
        raise ValidationFailed(fields={"article_id": _("Choose a published article.")})


@transaction.atomic
def ticket_link_article(*, actor: User, ticket: Ticket, article: Article) -> TicketArticle:
    """Link a published article to a ticket the actor works on; linking it again changes nothing."""
    _check_linkable(actor, ticket, article)
    link, _created = TicketArticle.objects.get_or_create(
        ticket=ticket, article=article, defaults={"linked_by": actor}
    )
    return link


@transaction.atomic
def article_solved(*, actor: User, ticket: Ticket, article: Article) -> TicketArticle:
    """The article solved the ticket: the link (made if need be) is marked and the article's count goes up by
    one, once per ticket however often or concurrently it is said."""
    link = ticket_link_article(actor=actor, ticket=ticket, article=article)
    if TicketArticle.objects.filter(pk=link.pk, solved=False).update(solved=True):
        Article.all_objects.filter(pk=article.pk).update(solved_count=F("solved_count") + 1)
    link.refresh_from_db()
    return link
