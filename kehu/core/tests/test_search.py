"""Full-text search of customers and contacts on whichever database runs the suite (FTS5 or tsvector).

The searches go through `kehu.customers.selectors.search`, the global search box, which is what users type
into."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.core.search import parse_query
from kehu.customers.selectors import CustomerFilters, customer_list, search
from kehu.customers.services import contact_create


def found(actor, q):
    return {c.name for c in search(actor=actor, q=q, limit=50)["customers"]}


@pytest.fixture
def zhang_san(org, make_customer):
    return make_customer(org.admin, name="张三", owner=org.rep_a)


@pytest.mark.parametrize("query", ["zhangsan", "zs", "张", "三", "张三", "ZhangSan", "ＺＳ", "zhang"])
def test_a_chinese_name_is_found_by_characters_pinyin_and_initials(org, zhang_san, make_customer, query):
    """Given customers 张三 and 李四, when searching by characters, full pinyin, a pinyin prefix or initials,
    then 张三 is found and 李四 is not."""
    make_customer(org.admin, name="李四", owner=org.rep_a)

    assert found(org.admin, query) == {"张三"}


@pytest.mark.parametrize(
    ("name", "readings"),
    [("曾小明", ["zengxiaoming", "cengxiaoming", "zxm", "cxm"]), ("单丽", ["shanli", "danli", "sl", "dl"])],
)
def test_surnames_with_two_readings_are_found_by_each_reading(org, make_customer, name, readings):
    """Given a customer whose surname has two readings (曾 zeng/ceng, 单 shan/dan), when searching by the
    pinyin or initials of either reading, then the customer is found."""
    make_customer(org.admin, name=name, owner=org.rep_a)

    for reading in readings:
        assert found(org.admin, reading) == {name}, reading


def test_a_substring_of_three_or_more_han_characters_finds_the_company(org, make_customer):
    """Given 上海星辰信息科技有限公司, when searching for the inner words 星辰信息 or 信息科技, then it is
    found."""
    make_customer(org.admin, name="上海星辰信息科技有限公司", owner=org.rep_a)
    make_customer(org.admin, name="北京云海数据有限公司", owner=org.rep_a)

    assert found(org.admin, "星辰信息") == {"上海星辰信息科技有限公司"}
    assert found(org.admin, "信息科技有限") == {"上海星辰信息科技有限公司"}
    assert found(org.admin, "有限公司") == {"上海星辰信息科技有限公司", "北京云海数据有限公司"}


def test_a_name_holding_the_bigrams_apart_is_rejected_by_the_recheck(org, make_customer):
    """Given a name containing 星辰, 辰信 and 信息 but not 星辰信息 contiguously, when searching 星辰信息,
    then only the name with the contiguous phrase is found (the bigram match alone is not enough)."""
    make_customer(org.admin, name="上海星辰信息科技有限公司", owner=org.rep_a)
    decoy = make_customer(org.admin, name="星辰科技辰信咨询信息中心", owner=org.rep_a)
    assert {"星辰", "辰信", "信息"} <= set(decoy.search_text.split())

    assert found(org.admin, "星辰信息") == {"上海星辰信息科技有限公司"}


def test_a_customer_is_found_by_full_phone_last_four_digits_and_a_prefix(org, make_customer):
    """Given a customer with phone +86 138-1234-5678, when searching the full number (any spelling), its last
    four digits or its first digits, then it is found; other digits do not find it."""
    make_customer(org.admin, name="星辰科技", phone="+86 138-1234-5678", owner=org.rep_a)
    make_customer(org.admin, name="云海数据", phone="13900001111", owner=org.rep_a)

    for query in ["13812345678", "138 1234 5678", "+8613812345678", "5678", "45678", "1381234"]:
        assert found(org.admin, query) == {"星辰科技"}, query
    assert found(org.admin, "1111") == {"云海数据"}
    assert found(org.admin, "2468") == set()


def test_a_customer_is_found_by_email_and_its_parts(org, make_customer):
    """Given a customer with e-mail Zhang.San@XingChen.cn, when searching the address or its parts, it is
    found."""
    make_customer(org.admin, name="星辰科技", email="Zhang.San@XingChen.cn", owner=org.rep_a)

    for query in ["zhang.san@xingchen.cn", "zhangsan", "xingchen", "Zhang.San"]:
        assert found(org.admin, query) == {"星辰科技"}, query


def test_contacts_are_found_by_name_pinyin_and_mobile(org, make_customer):
    """Given a contact 王小红 at a customer, when searching her name, pinyin or mobile tail, then she is found
    among the contacts (and the customer, whose own fields do not match, is not)."""
    customer = make_customer(org.admin, name="星辰科技", owner=org.rep_a)
    contact_create(actor=org.admin, customer=customer, data={"name": "王小红", "mobile": "13700002222"})

    for query in ["王小红", "小红", "wangxiaohong", "wxh", "2222"]:
        result = search(actor=org.admin, q=query)
        assert [c.name for c in result["contacts"]] == ["王小红"], query
        assert result["customers"] == [], query


@pytest.mark.parametrize("query", ["！？。…", "---", "@@", "()*\"'", "   ", "'; DROP TABLE x; --"])
def test_a_query_of_punctuation_returns_nothing_and_does_not_crash(org, zhang_san, query):
    """Given punctuation only (including FTS operators and quotes), when searching, then no results come
    back."""
    result = search(actor=org.admin, q=query)

    assert result == {"customers": [], "contacts": []}
    assert customer_list(actor=org.admin, filters=CustomerFilters(q=query)).items == []


def test_search_operators_in_a_query_are_treated_as_text(org, zhang_san):
    """Given a query mixing words with FTS syntax (OR, NEAR, quotes, stars), when searching, then it neither
    crashes nor widens the match."""
    assert found(org.admin, 'zhang OR "li"*') == set()
    assert found(org.admin, "zhang*") == {"张三"}


def test_search_is_scoped_to_what_the_actor_may_see(org, make_customer):
    """Given 张三 owned by rep_a, when rep_c of another region searches for it, then nothing is found."""
    make_customer(org.admin, name="张三", owner=org.rep_a)

    assert found(org.rep_a, "张三") == {"张三"}
    assert found(org.rep_c, "张三") == set()


def test_parse_query_splits_long_han_runs_into_bigrams_with_a_recheck():
    """Given a four-character query, when parsed, then its three bigrams must all match and the phrase is
    rechecked."""
    parsed = parse_query("星辰信息")

    assert parsed.groups == ((("星辰", False),), (("辰信", False),), (("信息", False),))
    assert parsed.han_rechecks == ("星辰信息",)
    assert not parse_query("！？")


COMMON = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤明华国建军平伟芳娜敏静丽强磊洋艳勇杰涛超"
    "秀英霞辉鹏"
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet=COMMON, min_size=2, max_size=6))
def test_every_contiguous_substring_of_a_chinese_name_finds_it(org, name):
    """Given a customer with a random name of common characters, when searching any contiguous substring of
    it, then the customer is found."""
    from kehu.customers.services import customer_create

    with transaction.atomic():
        customer = customer_create(actor=org.admin, data={"name": name}, owner=org.rep_a)
        for start in range(len(name)):
            for end in range(start + 1, len(name) + 1):
                query = name[start:end]
                ids = {c.pk for c in search(actor=org.admin, q=query, limit=50)["customers"]}
                assert customer.pk in ids, query
        transaction.set_rollback(True)


@pytest.fixture
def stars(org, make_customer):
    """Twelve customers named 星辰…: the four oldest and every third after them belong to rep_a, the rest to
    rep_c of another region; between them customers that do not match."""
    made = []
    for n in range(12):
        owner = org.rep_a if n < 4 or n % 3 == 0 else org.rep_c
        made.append(make_customer(org.admin, name=f"星辰{'甲乙丙丁戊己庚辛壬癸子丑'[n]}号", owner=owner))
        make_customer(org.admin, name=f"云海{n}号", owner=owner)
    return made


@pytest.mark.parametrize("recent_rows", [0, 1, 3, 8, 100_000])
@pytest.mark.parametrize("limit", [1, 3, 5, 30])
def test_newest_matches_are_those_of_one_query_over_all_matches(
    org, stars, monkeypatch, django_assert_num_queries, recent_rows, limit
):
    """Given matches of which the newest mostly belong to another team, when the newest few are asked for
    (on SQLite the recent rows first, then the older ones), then the rows, their order and the single query
    are those of one query over all matches, whatever the number of recent rows."""
    from kehu.core import search as search_module
    from kehu.customers.selectors import contact_scope, customer_scope

    monkeypatch.setattr(search_module, "RECENT_ROWS", recent_rows)
    for customer in stars:
        contact_create(actor=org.admin, customer=customer, data={"name": f"王{customer.name[2]}"})
    parsed = parse_query("星辰")

    for actor in (org.admin, org.rep_a, org.rep_c):
        for scope in (customer_scope(actor), contact_scope(actor)):
            expected = list(scope.filter(search_text__fts=parsed).order_by("-pk")[:limit])
            with django_assert_num_queries(1):
                found = list(search_module.newest_matches(scope, parsed, limit))
            assert found == expected, (actor.username, scope.model.__name__)
    assert len(expected) == min(limit, 6)  # the last one checked: rep_c sees the contacts of 6 customers


def test_a_full_text_match_works_inside_a_subquery(org, zhang_san, make_customer):
    """Given 张三 and 李四, when the match is the subquery of another query (where the ORM renames its
    tables), then it still finds 张三 only."""
    from kehu.customers.models import Customer

    make_customer(org.admin, name="李四", owner=org.rep_a)
    matching = Customer.objects.filter(search_text__fts=parse_query("zs")).values("pk")

    assert list(Customer.objects.filter(pk__in=matching)) == [zhang_san]
