"""The knowledge base: search by Chinese words, pinyin and initials; who reads drafts, internal and public articles;
versions kept on every saved change under the optimistic check; suggestions from a ticket's words; linking to a
ticket and "this solved it" counted once per ticket; who may edit and link; the pages and the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.core.exceptions import NotFound, PermissionDenied, StaleEdit, ValidationFailed
from kehu.support import knowledge, services
from kehu.support.models import Article, ArticleVersion, Category, TicketArticle

INVOICE = {
    "title": "发票抬头开错了怎么办",
    "problem": "客户收到的增值税专用发票抬头写错，要求重开。",
    "solution": "在开票系统作废原发票，核对抬头和税号后重新开具，寄出并告知单号。",
}
PARCEL = {
    "title": "快递外箱破损怎么处理",
    "problem": "客户收到货物时外箱破损，里面的商品碎了。",
    "solution": "请客户拍照留证，当天补发新品，破损件无需寄回。",
}
POWER = {
    "title": "设备开机没有反应",
    "problem": "插上电源后指示灯不亮，按开机键没有反应。",
    "solution": "先换一个插座试试；仍不亮则登记序列号安排上门检修。",
}


def write(actor, text, *, publish=True, **extra):
    return knowledge.article_create(actor=actor, data={**text, **extra}, publish=publish)


def found(actor, q):
    return [a.title for a in knowledge.article_search(actor=actor, q=q)]


@pytest.fixture
def articles(desk):
    """Three published articles and a draft, written by a service agent."""
    desk.invoice = write(desk.agent_a, INVOICE)
    desk.parcel = write(desk.agent_a, PARCEL, visibility="public")
    desk.power = write(desk.agent_a, POWER)
    desk.draft = write(desk.agent_a, {"title": "发票遗失补开流程", "solution": "待确认"}, publish=False)
    return desk


@pytest.fixture
def ticket(desk):
    """A complaint of rep_c's customer, worked by agent_a in team A."""
    return services.ticket_create(
        actor=desk.admin,
        data={"subject": "收到的货物外箱破损", "description": "里面的杯子碎了", "customer": desk.customer},
        team=desk.team_a,
        assignee=desk.agent_a,
    )


# --- search and visibility ----------------------------------------------------------------------------------------


def test_search_by_chinese_words_pinyin_and_initials(articles):
    """Given published articles, when a rep searches by words, pinyin (also of a word inside the title) or
    initials, then the matching article is found and the others are not."""
    rep = articles.rep_a
    assert found(rep, "发票") == [INVOICE["title"]]
    assert found(rep, "增值税专用") == [INVOICE["title"]]  # three or more characters: bigrams, then rechecked
    assert found(rep, "fapiao") == [INVOICE["title"]]
    assert found(rep, "taitou") == [INVOICE["title"]]  # a word inside the title
    assert found(rep, "zzs") == [INVOICE["title"]]  # 增值税, inside the problem
    assert found(rep, "Kuaidi") == [PARCEL["title"]]
    assert found(rep, "ｐｏｓｕｎ") == [PARCEL["title"]]  # full-width letters fold
    assert found(rep, "破损 补发") == [PARCEL["title"]]
    assert found(rep, "电源插座") == []  # both bigrams occur, the phrase does not
    assert found(rep, "") == []


def test_drafts_for_editors_internal_and_public_for_staff_public_outside(articles):
    """Given a draft, internal and public articles: staff read the published ones, editors the draft too, and
    the public help pages only the public, published one."""
    assert [a.title for a in knowledge.article_search(actor=articles.rep_a, q="发票")] == [INVOICE["title"]]
    assert set(found(articles.agent_a, "发票")) == {INVOICE["title"], "发票遗失补开流程"}
    assert set(found(articles.lead_a, "fapiao")) == {INVOICE["title"], "发票遗失补开流程"}
    assert found(articles.analyst, "发票") == [INVOICE["title"]]  # analysts read, never edit
    with pytest.raises(NotFound):
        knowledge.article_get_for(actor=articles.rep_a, article_id=articles.draft.pk)
    assert [a.title for a in knowledge.public_articles()] == [PARCEL["title"]]
    assert knowledge.public_article_get(article_id=articles.parcel.pk) == articles.parcel
    with pytest.raises(NotFound):
        knowledge.public_article_get(article_id=articles.invoice.pk)
    knowledge.article_unpublish(actor=articles.lead_a, article=articles.parcel)
    assert knowledge.public_articles() == []
    assert found(articles.rep_a, "破损") == []


def english_parcel(articles):
    """The public English version of the parcel article."""
    return write(
        articles.agent_a,
        {
            "title": "Parcel damaged",
            "solution": "We send a new one.",
            "language": "en",
            "visibility": "public",
        },
        translation_of=articles.parcel,
    )


def test_the_help_page_shows_public_published_articles_to_anyone(articles):
    english = english_parcel(articles)
    page = Client().get(f"/help/kb/{articles.parcel.pk}/").content.decode()
    assert PARCEL["solution"] in page and f"/help/kb/{english.pk}/" in page
    assert Client().get(f"/help/kb/{articles.invoice.pk}/").status_code == 404  # internal
    assert Client().get(f"/help/kb/{articles.draft.pk}/").status_code == 404


def test_the_help_centre_lists_and_searches_public_articles_in_the_readers_language(articles):
    """Given a public Chinese article with a public English version, an internal one and a draft, when anyone
    opens the help centre, then only the public articles are listed (in the reader's language), a search by
    pinyin finds the Chinese one, and a search with no match says so."""
    english = english_parcel(articles)
    visitor = Client()
    page = visitor.get("/help/kb/").content.decode()
    assert PARCEL["title"] in page and f"/help/kb/{articles.parcel.pk}/" in page
    assert INVOICE["title"] not in page and "发票遗失补开流程" not in page and "Parcel damaged" not in page
    assert PARCEL["title"] in visitor.get("/help/kb/", {"q": "posun"}).content.decode()
    assert "没有与“发票”匹配的文章" in visitor.get("/help/kb/", {"q": "发票"}).content.decode()
    visitor.post("/i18n/setlang/", {"language": "en"})
    page = visitor.get("/help/kb/").content.decode()
    assert "Parcel damaged" in page and PARCEL["title"] not in page and f"/help/kb/{english.pk}/" in page


def test_who_may_edit(articles):
    """System admins, service agents and managers edit; reps, unit admins and analysts do not."""
    editors = [articles.admin, articles.agent_a, articles.lead_a, articles.east_manager]
    assert all(knowledge.may_edit(user) for user in editors)
    assert not any(knowledge.may_edit(u) for u in (articles.rep_a, articles.unit_admin, articles.analyst))
    with pytest.raises(PermissionDenied):
        write(articles.rep_a, POWER)
    with pytest.raises(PermissionDenied):
        knowledge.article_update(
            actor=articles.rep_a, article=articles.invoice, data={"title": "改标题"}, version=None
        )
    with pytest.raises(PermissionDenied):
        knowledge.article_delete(actor=articles.analyst, article=articles.invoice)


def test_a_published_article_needs_a_title_and_a_solution(desk):
    with pytest.raises(ValidationFailed) as refused:
        write(desk.agent_a, {"title": "  ", "solution": "x"})
    assert "title" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        write(desk.agent_a, {"title": "只有标题"})
    assert "solution" in refused.value.fields
    draft = write(desk.agent_a, {"title": "只有标题"}, publish=False)
    with pytest.raises(ValidationFailed):
        knowledge.article_publish(actor=desk.agent_a, article=draft)
    assert Article.objects.get(pk=draft.pk).status == "draft"


# --- versions and languages ---------------------------------------------------------------------------------------


def test_every_saved_change_is_a_version_and_a_stale_form_is_refused(articles):
    """Given an article at version 1, when one editor saves a change and another saves a form opened before it,
    then the second is refused with what changed, and each saved change is kept as a version."""
    article = articles.invoice
    assert (article.version, [v.number for v in article.versions.all()]) == (1, [1])
    knowledge.article_update(
        actor=articles.lead_a, article=article, data={"solution": "作废后重开，当天寄出。"}, version=1
    )
    with pytest.raises(StaleEdit) as stale:
        knowledge.article_update(
            actor=articles.agent_a, article=article, data={"title": "抬头错了"}, version=1
        )
    assert set(stale.value.changes) == {"solution"} and stale.value.current_version == 2
    knowledge.article_update(actor=articles.agent_a, article=article, data={"title": "抬头错了"}, version=2)
    knowledge.article_update(actor=articles.agent_a, article=article, data={"title": "抬头错了"}, version=3)
    versions = list(ArticleVersion.objects.filter(article=article).values_list("number", "title", "solution"))
    assert versions == [
        (3, "抬头错了", "作废后重开，当天寄出。"),
        (2, INVOICE["title"], "作废后重开，当天寄出。"),
        (1, INVOICE["title"], INVOICE["solution"]),
    ]  # the unchanged save made none
    article.refresh_from_db()
    assert (article.version, article.updated_by) == (3, articles.agent_a)
    assert found(articles.rep_a, "ttcl") == ["抬头错了"]  # re-indexed: the new title's initials


def test_a_chinese_article_and_its_english_version_are_linked(articles):
    english = write(
        articles.agent_a,
        {"title": "Wrong invoice title", "solution": "Void it and issue a new one.", "language": "en"},
        translation_of=articles.invoice,
    )
    assert english.translation_of == articles.invoice
    assert knowledge.article_translations(actor=articles.rep_a, article=articles.invoice) == [english]
    assert knowledge.article_translations(actor=articles.rep_a, article=english) == [articles.invoice]
    with pytest.raises(ValidationFailed) as refused:
        write(articles.agent_a, {"title": "Again", "solution": "x", "language": "en"}, translation_of=english)
    assert "language" in refused.value.fields  # a translation of the translation is one of the original
    with pytest.raises(ValidationFailed):
        write(articles.agent_a, {"title": "同语言", "solution": "x"}, translation_of=articles.invoice)
    with pytest.raises(ValidationFailed):  # the original may not take its translation's language either
        knowledge.article_update(
            actor=articles.agent_a, article=articles.invoice, data={"language": "en"}, version=None
        )


# --- tickets ------------------------------------------------------------------------------------------------------


def test_suggestions_from_a_tickets_words(articles):
    """Given a ticket's text as it is typed, the published articles sharing its words come first; drafts and
    unrelated articles do not."""
    titles = [
        a.title for a in knowledge.suggest_for(actor=articles.agent_a, text="收到的货物外箱破损，杯子碎了")
    ]
    assert titles == [PARCEL["title"]]
    titles = [a.title for a in knowledge.suggest_for(actor=articles.agent_a, text="发票开错了，能不能重开")]
    assert titles == [INVOICE["title"]]  # not the draft about lost invoices
    assert knowledge.suggest_for(actor=articles.agent_a, text="的了吗 12345678") == []
    mixed = knowledge.suggest_for(actor=articles.agent_a, text="设备没有反应，外箱也破损了")
    assert {a.title for a in mixed} == {POWER["title"], PARCEL["title"]}


def test_link_and_this_solved_it_counts_once_per_ticket(articles, ticket):
    agent = articles.agent_a
    link = knowledge.ticket_link_article(actor=agent, ticket=ticket, article=articles.invoice)
    assert knowledge.ticket_link_article(actor=agent, ticket=ticket, article=articles.invoice) == link
    assert not link.solved
    for _ in range(3):
        knowledge.article_solved(actor=agent, ticket=ticket, article=articles.parcel)  # links it too
    other = services.ticket_create(
        actor=articles.lead_a, data={"subject": "又碎了"}, team=articles.team_a, assignee=agent
    )
    knowledge.article_solved(actor=articles.lead_a, ticket=other, article=articles.parcel)
    articles.parcel.refresh_from_db()
    assert articles.parcel.solved_count == 2
    links = knowledge.ticket_articles(actor=agent, ticket=ticket)
    assert [(x.article, x.solved, x.linked_by) for x in links] == [
        (articles.invoice, False, agent),
        (articles.parcel, True, agent),
    ]
    knowledge.article_unpublish(actor=articles.lead_a, article=articles.parcel)
    seen_by_rep = [x.article for x in knowledge.ticket_articles(actor=articles.rep_c, ticket=ticket)]
    assert seen_by_rep == [articles.invoice]  # a draft again: readers who are not editors no longer see it
    with pytest.raises(ValidationFailed):
        knowledge.ticket_link_article(actor=agent, ticket=ticket, article=articles.draft)


def test_only_who_works_the_ticket_links_articles(articles, ticket, login, api):
    """The customer's rep sees the ticket but does not work it (403); another team's rep does not see it (404)."""
    with pytest.raises(PermissionDenied):
        knowledge.ticket_link_article(actor=articles.rep_c, ticket=ticket, article=articles.invoice)
    outsider = login(articles.rep_b)
    response = outsider.post(f"/tickets/{ticket.pk}/kb/link/", {"article": articles.invoice.pk})
    assert response.status_code == 404
    response = outsider.post(f"/tickets/{ticket.pk}/kb/{articles.invoice.pk}/solved/")
    assert response.status_code == 404
    as_outsider = api(articles.rep_b)
    response = as_outsider(
        "post", f"/api/v1/tickets/{ticket.pk}/articles", {"article_id": articles.invoice.pk}
    )
    assert response.status_code == 404
    response = api(articles.rep_c)(
        "post", f"/api/v1/tickets/{ticket.pk}/articles", {"article_id": articles.invoice.pk}
    )
    assert response.status_code == 403
    assert not TicketArticle.objects.exists()
    articles.invoice.refresh_from_db()
    assert articles.invoice.solved_count == 0


# --- pages --------------------------------------------------------------------------------------------------------


def test_list_search_and_detail_pages(articles, login):
    client = login(articles.rep_a)
    page = client.get("/tickets/kb/").content.decode()
    assert INVOICE["title"] in page and PARCEL["title"] in page and "发票遗失补开流程" not in page
    assert 'data-testid="new-article"' not in page
    searched = client.get("/tickets/kb/", {"q": "kdwx"}).content.decode()  # 快递外箱
    assert PARCEL["title"] in searched and INVOICE["title"] not in searched
    assert client.get("/tickets/kb/", {"visibility": "public"}).content.decode().count("article-row") == 1
    assert client.get("/tickets/kb/", {"visibility": "secret"}).content.decode().count("article-row") == 3
    detail = client.get(f"/tickets/kb/{articles.invoice.pk}/").content.decode()
    assert INVOICE["solution"] in detail and 'data-testid="edit-article"' not in detail
    assert client.get(f"/tickets/kb/{articles.draft.pk}/").status_code == 404
    assert client.get(f"/tickets/kb/{articles.invoice.pk}/edit/").status_code == 403
    assert client.get("/tickets/kb/new/").status_code == 403
    editor = login(articles.agent_a)
    assert "发票遗失补开流程" in editor.get("/tickets/kb/").content.decode()


def test_write_edit_attach_and_look_at_an_old_version(desk, login):
    client = login(desk.agent_a)
    category = Category.objects.create(name="发票", name_en="Invoices")
    assert client.get("/tickets/kb/new/").status_code == 200
    response = client.post(
        "/tickets/kb/new/",
        {**INVOICE, "language": "zh-hans", "visibility": "internal", "category": category.pk, "publish": "1"},
    )
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tickets/kb/{article.pk}/"
    assert (article.status, article.category, article.created_by) == ("published", category, desk.agent_a)
    edit = client.get(f"/tickets/kb/{article.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in edit
    data = {**INVOICE, "language": "zh-hans", "visibility": "public", "category": "", "version": "1"}
    response = client.post(f"/tickets/kb/{article.pk}/edit/", {**data, "solution": "直接重开。"})
    assert response.status_code == 302
    stale = client.post(f"/tickets/kb/{article.pk}/edit/", {**data, "title": "旧表单"})
    assert stale.status_code == 422 and 'data-testid="stale-changes"' in stale.content.decode()
    assert 'name="version" value="2"' in stale.content.decode()
    upload = SimpleUploadedFile("开票说明.pdf", b"%PDF-1.4 guide", content_type="application/pdf")
    assert client.post(f"/tickets/kb/{article.pk}/files/", {"file": upload}).status_code == 302
    bad = SimpleUploadedFile("macro.exe", b"MZ", content_type="application/octet-stream")
    client.post(f"/tickets/kb/{article.pk}/files/", {"file": bad})
    assert list(article.attachments.values_list("name", flat=True)) == ["开票说明.pdf"]
    page = client.get(f"/tickets/kb/{article.pk}/").content.decode()
    assert page.count('data-testid="article-version"') == 2 and "开票说明.pdf" in page
    assert "直接重开。" in page
    old = client.get(f"/tickets/kb/{article.pk}/", {"version": 1}).content.decode()
    assert 'data-testid="old-version"' in old and INVOICE["solution"] in old
    assert client.get(f"/tickets/kb/{article.pk}/", {"version": 9}).status_code == 404
    translation = client.get(f"/tickets/kb/new/?translation_of={article.pk}").content.decode()
    assert '<option value="en" selected>' in translation
    attachment = article.attachments.get()
    download = login(desk.rep_a).get(f"/tickets/kb/files/{attachment.pk}/")  # a reader, not an editor
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 guide"


def test_delete_goes_to_the_recycle_bin_and_back(articles, login):
    client = login(articles.agent_a)
    response = client.post(f"/tickets/kb/{articles.power.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/tickets/kb/"
    assert found(articles.agent_a, "kaiji") == []
    assert Article.all_objects.get(pk=articles.power.pk).deleted_by == articles.agent_a
    assert client.post(f"/tickets/kb/{articles.power.pk}/restore/").status_code == 404  # admins only
    admin = login(articles.admin)
    assert POWER["title"] in admin.get("/recycle-bin/").content.decode()
    assert admin.post(f"/tickets/kb/{articles.power.pk}/restore/").status_code == 302
    assert found(articles.rep_a, "kaiji") == [POWER["title"]]


def test_fast_entry_suggests_and_the_ticket_page_links(articles, ticket, login):
    client = login(articles.agent_a)
    form = client.get("/tickets/new/").content.decode()
    assert 'hx-get="/tickets/kb/suggest/"' in form
    partial = client.get("/tickets/kb/suggest/", {"subject": "外箱破损", "description": "杯子碎了"})
    assert PARCEL["title"] in partial.content.decode() and "kb-link" not in partial.content.decode()
    assert client.get("/tickets/kb/suggest/", {"subject": ""}).content.decode().strip() == ""
    searched = client.get("/tickets/kb/suggest/", {"q": "fapiao", "ticket": ticket.pk}).content.decode()
    assert INVOICE["title"] in searched and "发票遗失补开流程" not in searched and "kb-link" in searched
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-testid="ticket-articles"' in page and PARCEL["title"] in page
    response = client.post(f"/tickets/{ticket.pk}/kb/link/", {"article": articles.invoice.pk})
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}/"
    response = client.post(f"/tickets/{ticket.pk}/kb/{articles.invoice.pk}/solved/")
    client.post(f"/tickets/{ticket.pk}/kb/{articles.invoice.pk}/solved/")
    articles.invoice.refresh_from_db()
    assert articles.invoice.solved_count == 1
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert page.count('data-testid="linked-article"') == 1 and 'data-testid="solved-badge"' in page
    rep_page = login(articles.rep_c).get(f"/tickets/{ticket.pk}/").content.decode()
    assert INVOICE["title"] in rep_page and 'data-testid="kb-solved"' not in rep_page


# --- API ----------------------------------------------------------------------------------------------------------


def test_the_api_writes_searches_links_and_counts(articles, ticket, api):
    agent = api(articles.agent_a)
    created = agent(
        "post",
        "/api/v1/kb/articles",
        {
            "title": "退货运费谁出",
            "problem": "质量问题退货",
            "solution": "质量问题由我们承担运费。",
            "publish": True,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["version"], [v["number"] for v in body["versions"]]) == ("published", 1, [1])
    article_id = body["id"]
    patched = agent("patch", f"/api/v1/kb/articles/{article_id}", {"visibility": "public", "version": 1})
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = agent("patch", f"/api/v1/kb/articles/{article_id}", {"title": "旧", "version": 1})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    rep = api(articles.rep_a)
    listed = rep("get", "/api/v1/kb/articles", {"q": "thyf"}).json()  # 退货运费
    assert [a["title"] for a in listed["items"]] == ["退货运费谁出"]
    assert rep("get", f"/api/v1/kb/articles/{articles.draft.pk}").status_code == 404
    assert rep("post", "/api/v1/kb/articles", {"title": "x", "solution": "y"}).status_code == 403
    assert rep("get", "/api/v1/kb/articles", {"status": "gone"}).status_code == 422
    withdrawn = agent("post", f"/api/v1/kb/articles/{article_id}/status", {"status": "draft"})
    assert withdrawn.json()["status"] == "draft"
    linked = agent("post", f"/api/v1/tickets/{ticket.pk}/articles", {"article_id": articles.parcel.pk})
    assert linked.status_code == 201 and linked.json()["solved"] is False
    draft = agent("post", f"/api/v1/tickets/{ticket.pk}/articles", {"article_id": article_id})
    assert draft.status_code == 422 and "article_id" in draft.json()["fields"]
    for _ in range(2):
        solved = agent("post", f"/api/v1/tickets/{ticket.pk}/articles/{articles.parcel.pk}/solved")
    assert solved.status_code == 200 and solved.json()["solved"] is True
    assert agent("get", f"/api/v1/kb/articles/{articles.parcel.pk}").json()["solved_count"] == 1
    links = agent("get", f"/api/v1/tickets/{ticket.pk}/articles").json()
    assert [(x["title"], x["solved"]) for x in links] == [(PARCEL["title"], True)]


def test_the_list_costs_the_same_queries_for_few_and_many_articles(desk, login):
    client = login(desk.agent_a)
    category = Category.objects.create(name="物流", name_en="Delivery")

    def counts():
        with CaptureQueriesContext(connection) as page:
            assert client.get("/tickets/kb/").status_code == 200
        with CaptureQueriesContext(connection) as listed:
            assert client.get("/api/v1/kb/articles").status_code == 200
        return len(page), len(listed)

    def add(n):
        for i in range(n):
            write(desk.agent_a, {**PARCEL, "title": f"破损{i}"}, category=category)

    add(2)
    few = counts()
    add(8)
    assert counts() == few
