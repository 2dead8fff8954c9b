"""Reading the spreadsheets people send: encodings, delimiters, XLSX and spreadsheet armour on the cells."""

import datetime

import pytest
from django.utils import translation
from openpyxl import Workbook

from kehu.core.exceptions import ValidationFailed
from kehu.integrations.tabular import clean_cell, open_table


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('="35153131473293579"', "35153131473293579"),
        ("'13925130165", "13925130165"),
        ("  上海蓝海科技 \t", "上海蓝海科技"),
        (13812345678.0, "13812345678"),
        (2.5, "2.5"),
        (datetime.datetime(2026, 3, 1, 9, 30), "2026-03-01 09:30:00"),
        (datetime.datetime(2026, 3, 1), "2026-03-01"),
        (None, ""),
    ],
)
def test_cells_lose_their_spreadsheet_armour(raw, expected):
    assert clean_cell(raw) == expected


def test_gbk_csv_without_bom_is_read_as_gb18030(tmp_path):
    text = "客户名称 ,手机\r\n上海蓝海科技有限公司,'13800001111\r\n\r\n杭州西湖贸易,13900002222\r\n"
    table = open_table(write(tmp_path, "gbk.csv", text.encode("gbk")))
    assert table.encoding == "gb18030"
    assert table.headers == ["客户名称", "手机"]  # the trailing space of the header is trimmed
    assert list(table.rows()) == [
        (2, ["上海蓝海科技有限公司", "13800001111"]),
        (4, ["杭州西湖贸易", "13900002222"]),  # the blank line is skipped; line numbers stay the file's
    ]


def test_utf8_with_bom_and_tabs(tmp_path):
    text = "名称\t邮箱\n张三\tzs@example.com\n"
    table = open_table(write(tmp_path, "bom.txt", "\ufeff".encode() + text.encode()))
    assert (table.encoding, table.delimiter) == ("utf-8-sig", "\t")
    assert list(table.rows()) == [(2, ["张三", "zs@example.com"])]


def test_quoted_cells_keep_commas_and_newlines(tmp_path):
    text = '名称,地址\n"蓝海, 上海","浦东新区\n世纪大道 100 号"\n'
    table = open_table(write(tmp_path, "quoted.csv", text.encode()))
    assert list(table.rows()) == [(2, ["蓝海, 上海", "浦东新区\n世纪大道 100 号"])]


def test_xlsx_is_recognised_by_its_bytes_not_its_name(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["名称", "手机", "下次跟进"])
    sheet.append(["深圳前海", 13800001111, datetime.date(2026, 12, 1)])
    path = tmp_path / "customers.csv"  # misnamed
    workbook.save(path)
    table = open_table(str(path))
    assert table.file_format == "xlsx"
    assert list(table.rows()) == [(2, ["深圳前海", "13800001111", "2026-12-01"])]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary", "Only CSV, XLSX and vCard"),
        (b"PK\x03\x04not really a zip", "cannot be opened as XLSX"),
        (b",,,\n1,2,3\n", "first row must hold the column names"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(tmp_path, data, message):
    with pytest.raises(ValidationFailed, match=message):
        open_table(write(tmp_path, "bad.csv", data))


def test_a_file_that_stops_being_utf8_names_the_line(tmp_path):
    data = "名称\n".encode() + b"ok\n" * 30000 + "坏\n".encode("gbk")
    table = open_table(write(tmp_path, "mixed.csv", data))
    assert table.encoding == "utf-8"
    with pytest.raises(ValidationFailed, match="not valid utf-8"):
        list(table.rows())
