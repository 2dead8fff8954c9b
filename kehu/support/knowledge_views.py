"""Pages of the knowledge base: the list with its search, an article with its versions and files, the form; the
suggestions while a ticket is typed; linking an article to a ticket and saying it solved it; the articles in the
recycle bin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.core.exceptions import ApplicationError, NotFound, PermissionDenied, StaleEdit
from kehu.core.web import (
    apply_error,
    filters_from,
    flash_error,
    perform,
    query_without,
    render_page,
    stale_context,
)
from kehu.sales.forms.contracts import AttachmentForm  # one file field, as on contracts
from kehu.support import knowledge, selectors, services
from kehu.support.forms import ArticleForm
from kehu.support.models import Article, Ticket
from kehu.users import scoping
from kehu.users.models import User


def _require_editor(request) -> None:
    if not knowledge.may_edit(request.user):
        raise PermissionDenied()


# --- the knowledge base -------------------------------------------------------------------------------------------


@login_required
def article_list(request):
    filters = filters_from(request, knowledge.ArticleFilters)
    try:
        page = knowledge.article_list(
            actor=request.user, filters=filters, cursor=request.GET.get("cursor"), size=50
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("support:kb_list")
    return render_page(
        request,
        "support/knowledge/list.html",
        {
            "page": page,
            "filters": filters,
            "may_edit": knowledge.may_edit(request.user),
            "categories": selectors.categories(),
            "statuses": Article.Status.choices,
            "visibilities": Article.Visibility.choices,
            "languages": Article.Language.choices,
            "query": query_without(request, "cursor"),
        },
        partial="rows",
    )


def _original(request) -> Article | None:
    """The article a new one translates (?translation_of=), through the scope."""
    raw = request.GET.get("translation_of")
    return knowledge.article_get_for(actor=request.user, article_id=raw) if raw else None


@login_required
def article_create(request):
    _require_editor(request)
    original = _original(request)
    initial = {"language": Article.Language.ZH_HANS, "visibility": Article.Visibility.INTERNAL}
    if original is not None:
        other = [code for code in Article.Language.values if code != original.language]
        initial = {"language": other[0], "visibility": original.visibility, "category": original.category_id}
    form = ArticleForm(request.POST or None, categories=selectors.categories(), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            article = knowledge.article_create(
                actor=request.user,
                data={**form.service_data(), "translation_of": original},
                publish=bool(request.POST.get("publish")),
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Article saved."))
            return redirect("support:kb_detail", article_id=article.pk)
    return render(
        request,
        "support/knowledge/form.html",
        {"form": form, "original": original},
        status=422 if form.is_bound else 200,
    )


@login_required
def article_detail(request, article_id: int):
    actor = request.user
    article = knowledge.article_get_for(actor=actor, article_id=article_id)
    shown = None
    if request.GET.get("version"):
        shown = knowledge.article_version_get(article=article, number=request.GET["version"])
    translations = knowledge.article_translations(actor=actor, article=article)
    taken = {article.language, *(t.language for t in translations)}
    return render(
        request,
        "support/knowledge/detail.html",
        {
            "article": article,
            "shown": shown,
            "versions": knowledge.article_versions(article=article),
            "attachments": list(article.attachments.all()),
            "translations": translations,
            "missing_languages": [(c, label) for c, label in Article.Language.choices if c not in taken],
            "may_edit": knowledge.may_edit(actor),
            "attachment_form": AttachmentForm(),
        },
    )


@login_required
def article_edit(request, article_id: int):
    _require_editor(request)
    article = knowledge.article_get_for(actor=request.user, article_id=article_id)
    initial = {
        name: getattr(article, name) for name in ("title", "problem", "solution", "language", "visibility")
    }
    form = ArticleForm(
        request.POST or None,
        categories=selectors.categories(),
        initial={**initial, "category": article.category_id, "version": article.version},
    )
    context = {"form": form, "article": article, "version": request.POST.get("version", article.version)}
    if request.method == "POST" and form.is_valid():
        try:
            knowledge.article_update(
                actor=request.user,
                article=article,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except StaleEdit as exc:
            context.update(stale_context(exc))
            context["version"] = exc.current_version
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, _("Article saved."))
            return redirect("support:kb_detail", article_id=article.pk)
    return render(request, "support/knowledge/form.html", context, status=422 if form.is_bound else 200)


@login_required
@require_POST
def article_status(request, article_id: int):
    article = knowledge.article_get_for(actor=request.user, article_id=article_id)
    publish = request.POST.get("status") == Article.Status.PUBLISHED
    service = knowledge.article_publish if publish else knowledge.article_unpublish
    return perform(
        request,
        lambda: service(actor=request.user, article=article),
        success=_("Article published.") if publish else _("Article withdrawn to draft."),
        then=reverse("support:kb_detail", args=[article.pk]),
        fields=True,
    )


@login_required
@require_POST
def article_delete(request, article_id: int):
    article = knowledge.article_get_for(actor=request.user, article_id=article_id)
    try:
        knowledge.article_delete(actor=request.user, article=article)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("support:kb_detail", article_id=article.pk)
    messages.success(request, _("“%(name)s” moved to the recycle bin.") % {"name": article.title})
    return redirect("support:kb_list")


@login_required
@require_POST
def article_restore(request, article_id: int):
    article = knowledge.deleted_article_get_for(actor=request.user, article_id=article_id)
    return perform(
        request,
        lambda: knowledge.article_restore(actor=request.user, article=article),
        success=_("“%(name)s” restored.") % {"name": article.title},
        then=reverse("activities:recycle_bin"),
        fields=True,
    )


@login_required
@require_POST
def attachment_add(request, article_id: int):
    article = knowledge.article_get_for(actor=request.user, article_id=article_id)
    form = AttachmentForm(request.POST, request.FILES)
    then = reverse("support:kb_detail", args=[article.pk])
    if not form.is_valid():
        messages.error(request, _("Choose a file to upload."))
        return redirect(then)
    return perform(
        request,
        lambda: knowledge.article_attach(
            actor=request.user, article=article, upload=form.cleaned_data["file"]
        ),
        success=_("File attached."),
        then=then,
        fields=True,
    )


@login_required
def attachment_download(request, attachment_id: int):
    """Files are served only through here, to those who read the article."""
    attachment = knowledge.attachment_get_for(actor=request.user, attachment_id=attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@login_required
@require_POST
def attachment_remove(request, attachment_id: int):
    attachment = knowledge.attachment_get_for(actor=request.user, attachment_id=attachment_id)
    return perform(
        request,
        lambda: knowledge.article_attachment_remove(actor=request.user, attachment=attachment),
        success=_("File removed."),
        then=reverse("support:kb_detail", args=[attachment.article_id]),
        fields=True,
    )


@require_GET
def public_articles(request):
    """The help centre for customers (no login): public, published articles, searchable."""
    q = request.GET.get("q", "").strip()[:100]
    articles = knowledge.public_articles(q=q, language=translation.get_language() or "", limit=50)
    return render(request, "support/knowledge/public_list.html", {"articles": articles, "q": q})


def public_article(request, article_id: int):
    """A public, published article for customers (no login), with its versions in other languages."""
    try:
        article = knowledge.public_article_get(article_id=article_id)
    except NotFound as exc:
        raise Http404 from exc
    return render(
        request,
        "support/knowledge/public.html",
        {"article": article, "translations": knowledge.public_translations(article=article)},
    )


# --- on tickets ---------------------------------------------------------------------------------------------------


@login_required
@require_GET
def suggest(request):
    """As-you-type help: articles for a search (`q`), else for the words of the ticket being typed (`subject`,
    `description`). With `ticket` the results carry buttons to link them to that ticket."""
    actor = request.user
    q = request.GET.get("q", "").strip()
    ticket = None
    if request.GET.get("ticket"):
        ticket = selectors.ticket_get_for(actor=actor, ticket_id=request.GET["ticket"])
    if q:
        articles = knowledge.article_search(actor=actor, q=q, limit=8, published=ticket is not None)
    else:
        text = f"{request.GET.get('subject', '')} {request.GET.get('description', '')}"
        articles = knowledge.suggest_for(actor=actor, text=text)
    return render(
        request,
        "support/knowledge/_suggest.html",
        {
            "articles": articles,
            "q": q,
            "ticket": ticket,
            "may_link": ticket is not None and services.may_work(actor, ticket),
        },
    )


def knowledge_context(actor: User, ticket: Ticket) -> dict:
    """The ticket page's knowledge card: the linked articles, and articles its subject and description suggest."""
    links = knowledge.ticket_articles(actor=actor, ticket=ticket)
    linked = {link.article_id for link in links}
    suggested = knowledge.suggest_for(
        actor=actor, text=f"{ticket.subject} {ticket.description}", limit=5 + len(linked)
    )
    return {
        "kb_links": links,
        "kb_suggestions": [a for a in suggested if a.pk not in linked][:5],
        "kb_may_link": services.may_work(actor, ticket),
    }


def _ticket_and_article(request, ticket_id, article_id) -> tuple[Ticket, Article]:
    ticket = selectors.ticket_get_for(actor=request.user, ticket_id=ticket_id)
    return ticket, knowledge.article_get_for(actor=request.user, article_id=article_id)


@login_required
@require_POST
def ticket_link(request, ticket_id: int):
    ticket, article = _ticket_and_article(request, ticket_id, request.POST.get("article"))
    return perform(
        request,
        lambda: knowledge.ticket_link_article(actor=request.user, ticket=ticket, article=article),
        success=_("Article linked."),
        then=reverse("support:detail", args=[ticket.pk]),
        fields=True,
    )


@login_required
@require_POST
def ticket_solved(request, ticket_id: int, article_id: int):
    ticket, article = _ticket_and_article(request, ticket_id, article_id)
    return perform(
        request,
        lambda: knowledge.article_solved(actor=request.user, ticket=ticket, article=article),
        success=_("Thank you: the article is counted as having solved this ticket."),
        then=reverse("support:detail", args=[ticket.pk]),
        fields=True,
    )


# --- recycle bin --------------------------------------------------------------------------------------------------


def recycle_sections(*, actor) -> list[dict]:
    """`recycle.sections`: the knowledge-base articles in the bin, for system admins."""
    if not scoping.is_system_admin(actor):
        return []
    items = [
        {
            "label": row.title,
            "detail": row.get_language_display(),
            "deleted_at": row.deleted_at,
            "deleted_by": row.deleted_by,
            "restore_url": reverse("support:kb_restore", args=[row.pk]),
        }
        for row in knowledge.deleted_articles(actor=actor)
    ]
    return [{"title": Article._meta.verbose_name_plural.capitalize(), "items": items}]
