"""Contacts from spreadsheets and vCard address books: the customer found by No. or name within the importer's
scope, the same person updated rather than repeated, bad cells reported per row, and the file run twice
creating nothing."""

import csv
import datetime

import pytest

from kehu.core import vcard
from kehu.customers.models import Contact
from kehu.integrations.models import ImportJob
from kehu.integrations.tests.exports import counts, run_file

pytestmark = pytest.mark.django_db
HEADERS = ["客户名称", "联系人", "职务", "手机", "邮箱", "生日", "主要联系人", "备注"]


def run_import(actor, path) -> ImportJob:
    return run_file(actor, "contacts", path, options={})


def write_csv(tmp_path, rows, name="contacts.csv", encoding="gb18030"):
    path = tmp_path / name
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


@pytest.fixture
def customers(org, make_customer):
    return (
        make_customer(org.rep_a, name="苏州青禾电子有限公司"),
        make_customer(org.rep_c, name="北京远山科技有限公司"),
    )


def test_a_gbk_sheet_becomes_contacts_and_a_second_run_creates_nothing(org, customers, tmp_path):
    qinghe, _north = customers
    path = write_csv(tmp_path, [
        ["苏州青禾电子有限公司", "陈总", "总经理", "'13912345678", "chen@qinghe.cn", "1980/5/6", "是", "爱喝茶"],
        ["苏州青禾电子有限公司", "小李", "采购", "13800001111", "", "", "", ""],
        ["苏州青禾电子有限公司", "陈总", "董事长", "139 1234 5678", "", "", "", ""],  # the same person: updated
        ["北京远山科技有限公司", "王工", "", "13700002222", "", "", "", ""],  # another team's customer
        ["不存在的公司", "赵六", "", "", "", "", "", ""],
        ["苏州青禾电子有限公司", "", "", "13600003333", "", "", "", ""],
        ["苏州青禾电子有限公司", "钱七", "", "", "", "明天", "也许", ""],
    ])  # fmt: skip
    job = run_import(org.rep_a, path)
    assert counts(job) == (2, 1, 0, 4)
    chen = Contact.objects.get(customer=qinghe, name="陈总")
    assert (chen.title, chen.mobile, chen.email, chen.birthday, chen.is_primary, chen.notes) == (
        "董事长",
        "139 1234 5678",
        "chen@qinghe.cn",
        datetime.date(1980, 5, 6),
        True,
        "爱喝茶",
    )
    rejected = {r.row_number: (r.column, r.message) for r in job.rejections.all()}
    assert rejected[5][0] == "客户" and "北京远山科技有限公司" in rejected[5][1]  # not in rep_a's scope
    assert rejected[6][0] == "客户" and "不存在的公司" in rejected[6][1]
    assert rejected[7][0] == "姓名"
    assert "生日" in rejected[8][0] and "主要联系人" in rejected[8][0]

    again = run_import(org.rep_a, path)
    assert counts(again) == (0, 2, 1, 4)  # rows 2 and 4 update 陈总 in turn; nobody is added
    assert Contact.objects.filter(customer=qinghe).count() == 2


def test_a_vcard_address_book_imports_contacts_by_company(org, customers, tmp_path):
    qinghe, _north = customers
    cards = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:陈总\r\nN:陈;总;;;\r\nORG:苏州青禾电子有限公司;销售部\r\n"
        "TITLE:总经理\r\nTEL;TYPE=CELL:139-1234-5678\r\nEMAIL;TYPE=INTERNET:chen@qinghe.cn\r\n"
        "BDAY:1980-05-06\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9D=8E;=E5=9B=9B;;;\r\n"
        "ORG:苏州青禾电子有限公司\r\nTEL;CELL:13800001111\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:无名公司的人\r\nTEL:13700002222\r\nEND:VCARD\r\n"
    )
    path = tmp_path / "contacts.vcf"
    path.write_bytes(cards.encode("gb18030"))
    job = run_import(org.rep_a, path)
    assert job.mapping[:4] == ["name", "title", "department", "customer"]
    assert counts(job) == (2, 0, 0, 1)
    chen = Contact.objects.get(customer=qinghe, name="陈总")
    assert (chen.title, chen.department, chen.mobile, chen.birthday) == (
        "总经理",
        "销售部",
        "139-1234-5678",
        datetime.date(1980, 5, 6),
    )
    assert Contact.objects.filter(customer=qinghe, name="李四", mobile="13800001111").exists()
    assert job.rejections.get().row_number == 17  # the line of the card's BEGIN:VCARD
    assert counts(run_import(org.rep_a, path)) == (0, 0, 2, 1)


def test_contacts_export_as_a_vcard_file_that_reads_back(org, customers, login):
    qinghe, north = customers
    from kehu.customers.services import contact_create

    contact_create(
        actor=org.rep_a, customer=qinghe, data={"name": "陈总", "mobile": "13912345678", "title": "总经理"}
    )
    contact_create(actor=org.rep_c, customer=north, data={"name": "王工", "mobile": "13700002222"})
    response = login(org.rep_a).get("/customers/contacts/export.vcf")
    assert response["Content-Type"].startswith("text/vcard")
    cards = list(vcard.read_vcards(b"".join(response.streaming_content)))
    assert [c.fields for c in cards] == [
        {"name": "陈总", "title": "总经理", "company": "苏州青禾电子有限公司", "mobile": "13912345678"}
    ]


@pytest.mark.usefixtures("customers")
def test_a_saved_mapping_template_maps_the_next_file_with_the_same_columns(org, tmp_path, login):
    path = tmp_path / "crm-export.csv"
    path.write_text(
        "单位全称,联系人,手机号,内部编号\n苏州青禾电子有限公司,陈总,13912345678,A-1\n", encoding="utf-8"
    )
    client = login(org.rep_a)
    with path.open("rb") as handle:
        response = client.post("/imports/new/", {"kind": "contacts", "file": handle})
    job = ImportJob.objects.get()
    assert job.mapping == ["", "name", "mobile", ""]  # "单位全称" is no header the importer knows
    start = {"map-mapping__0": "customer", "map-mapping__1": "name", "map-mapping__2": "mobile"}
    response = client.post(
        f"/imports/{job.pk}/start/", {**start, "map-mapping__3": "", "template_name": "老系统导出"}
    )
    assert response.status_code == 302

    path.write_text(
        "单位全称,联系人,手机号,内部编号\n苏州青禾电子有限公司,小李,13800001111,A-2\n", encoding="utf-8"
    )
    with path.open("rb") as handle:
        client.post("/imports/new/", {"kind": "contacts", "file": handle})
    second = ImportJob.objects.latest("pk")
    assert second.mapping == ["customer", "name", "mobile", ""]
    page = client.get(f"/imports/{second.pk}/").content.decode()
    assert 'data-testid="applied-template"' in page and "老系统导出" in page
    assert ImportJob.objects.filter(created_by=org.rep_c).count() == 0
    from kehu.integrations.services import mapping_template_for

    assert mapping_template_for(actor=org.rep_c, kind="contacts", headers=second.headers) is None  # one's own


def test_the_preview_shows_the_first_rows_as_the_fields_will_receive_them(org, tmp_path, login):
    path = tmp_path / "crm-export.csv"
    path.write_text("单位全称,联系人,手机号\n苏州青禾电子有限公司,陈总,13912345678\n", encoding="utf-8")
    client = login(org.rep_a)
    with path.open("rb") as handle:
        client.post("/imports/new/", {"kind": "contacts", "file": handle})
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    preview = page.split('data-testid="mapped-preview"')[1].split("</table>")[0]
    assert '<th class="text-nowrap">姓名</th>' in preview and "陈总" in preview
    assert "苏州青禾电子有限公司" not in preview  # its column is not mapped yet
    changed = client.post(
        f"/imports/{job.pk}/preview/",
        {"map-mapping__0": "customer", "map-mapping__1": "name", "map-mapping__2": "mobile"},
    ).content.decode()
    assert changed.index("客户") < changed.index("姓名") and "苏州青禾电子有限公司" in changed
