"""Reading the vCards phones export (iPhone 3.0, Android 2.1, GBK, 4.0) and writing 3.0 cards that read back."""

import pytest

from kehu.core.vcard import MISSING_END, NO_NAME, NOT_VCARD, Card, decode, read_vcards, write_vcards


def vcf(*lines: str, end: str = "\r\n", encoding: str = "utf-8") -> bytes:
    return "".join(line + end for line in lines).encode(encoding)


def qp(text: str, encoding: str = "utf-8") -> str:
    return "".join(f"={byte:02X}" for byte in text.encode(encoding))


def only(data: bytes) -> Card:
    cards = list(read_vcards(data))
    assert len(cards) == 1
    return cards[0]


def test_iphone_card_with_groups_and_item_labels():
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "PRODID:-//Apple Inc.//iPhone OS 17.4//EN",
        "N:Lee;Ann;;;",
        "FN:Ann Lee",
        "ORG:Acme Trading Ltd;Purchasing;",
        "TITLE:Senior Buyer",
        "item1.EMAIL;type=INTERNET:ann.lee@acme.example",
        "item1.X-ABLabel:_$!<Other>!$_",
        "EMAIL;type=INTERNET;type=WORK;type=pref:ann@acme.example",
        "TEL;type=CELL;type=VOICE;type=pref:+1 (415) 555-0100",
        "item2.TEL:+1 415 555 0199",
        "item2.X-ABLabel:Assistant",
        "TEL;type=WORK;type=VOICE:+1 415 555 0123",
        "item3.ADR;type=WORK;type=pref:;;1 Main Street;Springfield;IL;62701;United States",
        "item3.X-ABADR:us",
        "item4.IMPP;X-SERVICE-TYPE=WeChat;type=pref:x-apple:ann_wx",
        "BDAY;value=date:1990-05-17",
        "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD",
        " /2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGBwkIBwcHBwgJ",
        "END:VCARD",
    )
    assert only(data) == Card(
        line=1,
        fields={
            "name": "Ann Lee",
            "title": "Senior Buyer",
            "department": "Purchasing",
            "company": "Acme Trading Ltd",
            "mobile": "+1 (415) 555-0100",
            "phone": "+1 415 555 0123",
            "email": "ann@acme.example",
            "wechat": "ann_wx",
            "birthday": "1990-05-17",
            "address": "1 Main Street, Springfield, IL 62701, United States",
        },
    )


def test_android_21_quoted_printable_chinese_with_a_soft_line_break():
    note = qp("老客户，喜欢喝茶")
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0;=E4=B8=89;;;",
        "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0=E4=B8=89",
        "TEL;CELL;VOICE:138-0013-8000",
        "TEL;WORK;VOICE:010-8888 6666",
        "EMAIL;HOME:zhangsan@example.cn",
        f"NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{note[:39]}=",
        note[39:],
        "END:VCARD",
    )
    assert only(data).fields == {
        "name": "张三",
        "mobile": "138-0013-8000",
        "phone": "010-8888 6666",
        "email": "zhangsan@example.cn",
        "notes": "老客户，喜欢喝茶",
    }


def test_android_name_only_in_n_and_bare_quoted_printable_param():
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        "N;CHARSET=UTF-8;QUOTED-PRINTABLE:=E5=BC=A0;=E4=B8=89;;;",
        "TEL;CELL:13800138000",
        "END:VCARD",
    )
    assert only(data).fields == {"name": "张三", "mobile": "13800138000"}


def test_western_name_is_built_from_n_given_name_first():
    data = vcf("BEGIN:VCARD", "VERSION:3.0", "N:Lee;Ann;;;", "FN: ", "END:VCARD")
    assert only(data).fields == {"name": "Ann Lee"}


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [("GBK", "gbk"), ("GB2312", "gb2312"), ("GB18030", "gb18030"), ("utf-8", "utf-8")],
)
def test_quoted_printable_in_a_declared_charset(charset, encoding):
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        f"FN;CHARSET={charset};ENCODING=QUOTED-PRINTABLE:{qp('王五', encoding)}",
        "END:VCARD",
    )
    assert only(data).fields == {"name": "王五"}


def test_unknown_charset_falls_back_to_utf8_with_replacement():
    data = vcf(
        "BEGIN:VCARD", "VERSION:2.1", "FN;CHARSET=X-NOPE;ENCODING=QUOTED-PRINTABLE:=E7=8E=8B=FF", "END:VCARD"
    )
    assert only(data).fields == {"name": "王\ufffd"}


def test_gbk_encoded_file():
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:李四",
        "ORG:杭州西湖贸易有限公司;销售部",
        "TITLE:销售经理",
        "TEL;TYPE=CELL:139 0000 1111",
        "ADR;TYPE=WORK:;;文三路 90 号;杭州市;浙江省;310012;中国",
        "NOTE:老客户，每月复购",
        "END:VCARD",
        encoding="gbk",
    )
    assert only(data).fields == {
        "name": "李四",
        "title": "销售经理",
        "department": "销售部",
        "company": "杭州西湖贸易有限公司",
        "mobile": "139 0000 1111",
        "address": "中国浙江省杭州市文三路 90 号",
        "notes": "老客户，每月复购",
    }


def test_quoted_printable_without_charset_in_a_gbk_file_uses_the_file_encoding():
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        f"FN;ENCODING=QUOTED-PRINTABLE:{qp('赵六', 'gbk')}",
        "NOTE:备注",
        "END:VCARD",
        encoding="gbk",
    )
    assert only(data).fields == {"name": "赵六", "notes": "备注"}


def test_vcard_40_with_tel_uris_and_quoted_types():
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:4.0",
        "FN:Li Na",
        'TEL;VALUE=uri;TYPE="work,voice";PREF=1:tel:+86-10-6000-0000',
        'TEL;VALUE=uri;TYPE="cell":tel:+86-139-0000-1111',
        "EMAIL;PREF=2:li@a.example",
        "EMAIL;PREF=1:na@b.example",
        "IMPP:weixin:lina88",
        "BDAY:19850304",
        "END:VCARD",
    )
    assert only(data).fields == {
        "name": "Li Na",
        "mobile": "+86-139-0000-1111",
        "phone": "+86-10-6000-0000",
        "email": "na@b.example",
        "wechat": "lina88",
        "birthday": "1985-03-04",
    }


def test_folded_long_note_is_unfolded():
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Ann Lee",
        "NOTE:Prefers calls in the morning; the office is closed on",
        "  Fridays and the warehouse",
        "\tnumber is on the invoice.",
        "END:VCARD",
    )
    assert only(data).fields["notes"] == (
        "Prefers calls in the morning; the office is closed on Fridays and the warehousenumber is on the invoice."
    )


def test_escapes_and_structured_values():
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Lee\\, Ann",
        "ORG:A\\; B Co\\, Ltd;R\\&D\\\\Labs",
        "NOTE:line one\\nline two\\Nline three\\, with\\; punctuation\\\\done",
        "END:VCARD",
    )
    assert only(data).fields == {
        "name": "Lee, Ann",
        "company": "A; B Co, Ltd",
        "department": "R\\&D\\Labs",
        "notes": "line one\nline two\nline three, with; punctuation\\done",
    }


@pytest.mark.parametrize("end", ["\r\n", "\n", "\r"])
def test_line_ends_names_and_params_are_read_whatever_their_case(end):
    data = vcf(
        "begin:vcard", "version:3.0", "fn:Ann Lee", "tel;type=cell:+1 415 555 0100", "end:vcard", end=end
    )
    assert list(read_vcards(data)) == [Card(line=1, fields={"name": "Ann Lee", "mobile": "+1 415 555 0100"})]


@pytest.mark.parametrize(
    ("tels", "mobile", "phone"),
    [
        (["TEL:+86 138 0013 8000", "TEL:021-5555 0100"], "+86 138 0013 8000", "021-5555 0100"),
        (["TEL:021-5555 0100", "TEL;TYPE=HOME:8613800138000"], "8613800138000", "021-5555 0100"),
        (["TEL:021-5555 0100"], "", "021-5555 0100"),
        (["TEL;TYPE=WORK:13800138000"], "", "13800138000"),
        (["TEL;TYPE=HOME:010-1", "TEL;TYPE=WORK:010-2", "TEL;TYPE=CELL:139"], "139", "010-2"),
        (["TEL;TYPE=CELL:139", "TEL;TYPE=CELL:138"], "139", "138"),
        (["TEL;TYPE=WORK,FAX:010-3", "TEL;TYPE=VOICE:010-4"], "", "010-4"),
    ],
)
def test_which_tel_is_the_mobile_and_which_the_phone(tels, mobile, phone):
    fields = only(vcf("BEGIN:VCARD", "VERSION:3.0", "FN:X", *tels, "END:VCARD")).fields
    assert (fields.get("mobile", ""), fields.get("phone", "")) == (mobile, phone)


def test_card_without_end_is_reported_and_the_next_card_is_read():
    data = vcf(
        "junk before the first card",
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Cut Short",
        "",
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Whole",
        "NOTE:first line",
        " folded",
        "END:VCARD",
        "",
        "BEGIN:VCARD",
        "FN:Last",
    )
    assert list(read_vcards(data)) == [
        Card(line=2, fields={"name": "Cut Short"}, error=MISSING_END),
        Card(line=6, fields={"name": "Whole", "notes": "first linefolded"}),
        Card(line=13, fields={"name": "Last"}, error=MISSING_END),
    ]


def test_a_file_without_cards_is_not_a_vcard():
    assert list(read_vcards("姓名,手机\n张三,13800138000\n".encode())) == [
        Card(line=1, fields={}, error=NOT_VCARD)
    ]


@pytest.mark.parametrize("data", [b"", b"\r\n \r\n", b"\xef\xbb\xbf"])
def test_an_empty_file_has_no_cards(data):
    assert list(read_vcards(data)) == []


def test_a_card_with_only_a_note_has_no_name():
    data = vcf("BEGIN:VCARD", "VERSION:3.0", "NOTE:who is this?", "END:VCARD")
    assert only(data) == Card(line=1, fields={"notes": "who is this?"}, error=NO_NAME)


def test_company_stands_in_for_a_missing_name_and_a_phone_alone_is_enough():
    data = vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "ORG:上海蓝海科技有限公司",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:3.0",
        "TEL:13800138000",
        "END:VCARD",
    )
    assert list(read_vcards(data)) == [
        Card(line=1, fields={"name": "上海蓝海科技有限公司", "company": "上海蓝海科技有限公司"}),
        Card(line=5, fields={"mobile": "13800138000"}),
    ]


@pytest.mark.parametrize(
    ("bday", "expected"),
    [
        ("BDAY:1990-05-17", "1990-05-17"),
        ("BDAY:19900517", "1990-05-17"),
        ("BDAY:1990-05-17T08:30:00Z", "1990-05-17"),
        ("BDAY:19900517T083000", "1990-05-17"),
        ("BDAY;VALUE=date:1990/5/7", "1990-05-07"),
        ("BDAY:--0517", None),
        ("BDAY:--05-17", None),
        ("BDAY:1990-02-30", None),
        ("BDAY;VALUE=text:circa 1800", None),
        ("BDAY;X-APPLE-OMIT-YEAR=1604:1604-05-17", None),
    ],
)
def test_birthdays(bday, expected):
    fields = only(vcf("BEGIN:VCARD", "VERSION:3.0", "FN:Ann Lee", bday, "END:VCARD")).fields
    assert fields.get("birthday") == expected


@pytest.mark.parametrize(
    ("adr", "expected"),
    [
        ("ADR:;;天河路385号;广州市;广东省;510620;中国", "中国广东省广州市天河路385号"),
        ("ADR;TYPE=HOME:;3楼;南京东路100号;黄浦区;上海市;;", "上海市黄浦区南京东路100号3楼"),
        ("ADR:;;88 Queen's Road;Hong Kong;;;China", "88 Queen's Road, Hong Kong, China"),
        ("ADR:;;;;;;", None),
    ],
)
def test_addresses(adr, expected):
    fields = only(vcf("BEGIN:VCARD", "VERSION:3.0", "FN:X", adr, "END:VCARD")).fields
    assert fields.get("address") == expected


def test_decode_strips_a_bom_and_falls_back_to_gb18030():
    assert decode(b"\xef\xbb\xbfBEGIN:VCARD") == "BEGIN:VCARD"
    assert decode("FN:张三".encode("gbk")) == "FN:张三"
    assert decode("FN:张三".encode()) == "FN:张三"


CONTACTS = [
    {
        "name": "张三",
        "title": "采购经理",
        "department": "采购部",
        "company": "上海蓝海科技有限公司",
        "mobile": "13800138000",
        "phone": "021-5555 0100",
        "email": "zhangsan@lanhai.cn",
        "wechat": "zhangsan_wx",
        "birthday": "1988-08-08",
        "address": "上海市浦东新区世纪大道100号",
        "notes": "老客户, 爱喝茶;\n第二行 a\\b",
    },
    {
        "name": "Ann Lee",
        "title": "Buyer, Asia; Pacific",
        "company": "Acme, Inc.",
        "mobile": "+1 415 555 0100",
        "email": "ann@acme.example",
        "address": "1 Main Street, Springfield, IL 62701",
        "notes": "Met at the fair, booth 12; follow up.\nSecond line. " + "Long note words " * 12,
    },
    {"name": "欧阳娜娜", "phone": "13900001111"},
]


def test_round_trip_gives_back_the_same_fields():
    written = list(write_vcards(CONTACTS))
    data = "".join(written).encode()
    cards = list(read_vcards(data))
    expected = [{key: value.strip() for key, value in contact.items()} for contact in CONTACTS]
    assert [card.fields for card in cards] == expected
    assert [card.error for card in cards] == ["", "", ""]
    assert "\r\n " in written[1]


def test_written_card_layout():
    (card,) = write_vcards([CONTACTS[0]])
    assert card == (
        "BEGIN:VCARD\r\n"
        "VERSION:3.0\r\n"
        "FN:张三\r\n"
        "N:张;三;;;\r\n"
        "ORG:上海蓝海科技有限公司;采购部\r\n"
        "TITLE:采购经理\r\n"
        "TEL;TYPE=CELL:13800138000\r\n"
        "TEL;TYPE=WORK,VOICE:021-5555 0100\r\n"
        "EMAIL;TYPE=INTERNET:zhangsan@lanhai.cn\r\n"
        "X-WECHAT:zhangsan_wx\r\n"
        "BDAY:1988-08-08\r\n"
        "ADR;TYPE=WORK:;;上海市浦东新区世纪大道100号;;;;\r\n"
        "NOTE:老客户\\, 爱喝茶\\;\\n第二行 a\\\\b\r\n"
        "END:VCARD\r\n"
    )


@pytest.mark.parametrize(
    ("name", "n_line"),
    [
        ("张三", "N:张;三;;;"),
        ("欧阳娜娜", "N:欧阳;娜娜;;;"),
        ("司马光", "N:司马;光;;;"),
        ("Mary Ann Smith", "N:Smith;Mary Ann;;;"),
        ("Madonna", "N:Madonna;;;;"),
        ("", "N:;;;;"),
    ],
)
def test_written_n_splits_family_and_given_name(name, n_line):
    (card,) = write_vcards([{"name": name}])
    assert card.split("\r\n")[3] == n_line


def test_written_card_skips_empty_values_and_org_without_company():
    (card,) = write_vcards([{"name": "Ann Lee", "department": "Sales", "email": " ", "birthday": None}])
    assert card == "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nN:Lee;Ann;;;\r\nEND:VCARD\r\n"


@pytest.mark.parametrize("filler", ["a", "张", "😀", "a张😀é"])
def test_folding_keeps_lines_within_75_octets_and_characters_whole(filler):
    notes = filler * 200
    (card,) = write_vcards([{"name": "X", "notes": notes}])
    physical = card.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in physical)
    note_lines = physical[physical.index(next(p for p in physical if p.startswith("NOTE:"))) : -2]
    assert all(len(line.encode()) > 75 - 4 for line in note_lines[:-1])
    assert all(line.startswith(" ") for line in note_lines[1:])
    assert "".join(line[1:] if i else line for i, line in enumerate(note_lines)) == "NOTE:" + notes
    assert only(card.encode()).fields["notes"] == notes
