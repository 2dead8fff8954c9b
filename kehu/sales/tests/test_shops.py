"""Shops belong to a unit; a buyer's identity is one per shop and nick."""

import pytest
from django.db import IntegrityError, transaction

from kehu.customers.services import customer_create
from kehu.sales.models import BuyerIdentity, Shop
from kehu.users import scoping

pytestmark = pytest.mark.django_db


def test_a_shop_is_seen_by_the_managers_of_its_unit_and_admins_only(org):
    shop = Shop.objects.create(
        platform=Shop.Platform.TAOBAO, name="客户科技旗舰店", external_id="57300001", org_unit=org.team_a
    )
    visible = {
        user.username
        for user in (org.admin, org.east_manager, org.rep_a, org.rep_b, org.rep_c)
        if Shop.objects.filter(scoping.visible_q(user, Shop), pk=shop.pk).exists()
    }
    assert visible == {"admin", "east_manager"}


def test_one_identity_per_shop_and_nick_and_one_shop_per_platform_id(org):
    shop = Shop.objects.create(
        platform=Shop.Platform.TAOBAO, name="店一", external_id="1", org_unit=org.team_a
    )
    buyer = customer_create(actor=org.rep_a, data={"name": "tb小王", "kind": "individual"})
    BuyerIdentity.objects.create(shop=shop, platform=shop.platform, nick="tb小王", customer=buyer)
    with pytest.raises(IntegrityError), transaction.atomic():
        BuyerIdentity.objects.create(shop=shop, platform=shop.platform, nick="tb小王", customer=buyer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Shop.objects.create(platform=Shop.Platform.TAOBAO, name="店二", external_id="1", org_unit=org.team_b)
    Shop.objects.create(platform=Shop.Platform.JD, name="店二", external_id="1", org_unit=org.team_b)
