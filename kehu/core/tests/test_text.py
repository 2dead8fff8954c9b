"""Normalisation of names, phones and e-mails: the keys collision checks and search rely on."""

import pytest

from kehu.core.text import (
    fold,
    mask_address,
    mask_name,
    mask_phone,
    normalise_email,
    normalise_name,
    normalise_phone,
)


def test_fold_turns_full_width_letters_and_digits_into_half_width():
    """Given text typed with a Chinese IME in full-width mode, when folded, then it reads as plain ASCII."""
    assert fold("ＡＢＣ１２３") == "ABC123"


def test_fold_trims_ideographic_spaces_and_collapses_inner_whitespace():
    """Given a name padded with full-width spaces and doubled inner spaces, when folded, then it is
    trimmed."""
    assert fold("张三　") == "张三"
    assert fold("　上海  星辰\t科技 ") == "上海 星辰 科技"


def test_fold_of_nothing_is_empty():
    """Given no value, when folded, then the result is an empty string rather than None."""
    assert fold(None) == ""
    assert fold("") == ""


def test_normalised_names_match_across_width_case_and_spacing():
    """Given the same name typed three ways, when normalised, then the three keys are equal."""
    assert normalise_name("ＡＢＣ 科技　") == normalise_name("abc科技") == normalise_name(" Abc 科技")
    assert normalise_name("星辰科技") != normalise_name("星辰信息")


@pytest.mark.parametrize(
    "raw",
    [
        "+86 138-1234-5678",
        "0086 138 1234 5678",
        "008613812345678",
        "8613812345678",
        "138 1234 5678",
        "(138)1234-5678",
        "１３８１２３４５６７８",
        " 13812345678 ",
    ],
)
def test_phone_normalisation_strips_country_prefix_and_separators(raw):
    """Given a mainland mobile number in any common spelling, when normalised, then only its 11 digits
    remain."""
    assert normalise_phone(raw) == "13812345678"


def test_landline_with_area_code_keeps_its_digits():
    """Given a landline with area code, when normalised, then the leading zero stays (it is not a prefix)."""
    assert normalise_phone("021-6888 1234") == "02168881234"


def test_too_short_or_non_numeric_phone_normalises_to_empty():
    """Given text with fewer than five digits, when normalised, then nothing phone-like is left."""
    assert normalise_phone("ext. 12") == ""
    assert normalise_phone("无") == ""
    assert normalise_phone(None) == ""


def test_email_normalisation_is_case_and_width_insensitive():
    """Given an e-mail typed in full width with capitals, when normalised, then it equals the plain form."""
    assert normalise_email(" Ｚhang.San@Example.COM ") == "zhang.san@example.com"


def test_mask_phone_keeps_the_first_three_and_last_four_digits():
    """Given a mobile number, when masked, then the middle four digits are hidden."""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("１３８１２３４５６７８") == "138****5678"


def test_mask_phone_hides_short_numbers_entirely():
    """Given a number too short to keep both ends, when masked, then every character is hidden."""
    assert mask_phone("12345") == "*****"
    assert mask_phone("") == ""
    assert mask_phone(None) == ""


def test_mask_address_keeps_where_but_hides_the_street():
    """Given a Chinese delivery address, when masked, then province, city and district stay and the rest is hidden."""
    assert mask_address("浙江省杭州市西湖区文三路90号东部软件园") == "浙江省杭州市西湖区****"
    assert mask_address("上海市浦东新区世纪大道100号") == "上海市浦东新区****"
    assert mask_address("Room 5, 88 Nanjing Road") == "Ro****"
    assert mask_address("中山北路770号") == "中山****"
    assert mask_address("北京市") == "北****"
    assert mask_address("") == ""


def test_mask_name_keeps_only_the_first_character():
    """Given a receiver's name, when masked, then only the family name is readable."""
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("X") == "*"
    assert mask_name(None) == ""
