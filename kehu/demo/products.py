"""Demo catalogue: two categories of products, price lists for key and level A accounts, and product lines on
some open opportunities (their amount then follows the lines)."""

import random
from decimal import Decimal

from kehu.sales.models import Opportunity, PriceList, PriceListItem, Product, ProductCategory
from kehu.sales.services.products import opportunity_lines_set

CATALOGUE = {
    ("软件", "Software"): [
        ("KH-CRM-STD", "客户管理系统 标准版", "CRM Standard edition", "套", "19800"),
        ("KH-CRM-PRO", "客户管理系统 专业版", "CRM Professional edition", "套", "49800"),
        ("KH-USER-Y", "用户年费", "Annual user licence", "人/年", "1200"),
        ("KH-API", "开放接口包", "API package", "套", "8000"),
    ],
    ("服务", "Services"): [
        ("SV-IMPL", "实施服务", "Implementation", "人天", "2500"),
        ("SV-TRAIN", "培训服务", "Training", "场", "6000"),
        ("SV-DATA", "数据迁移", "Data migration", "次", "15000"),
        ("SV-SUPPORT", "年度维保", "Annual support", "年", "12000"),
    ],
}


def products_for(rng: random.Random, *, now) -> None:
    products = []
    for (name, name_en), items in CATALOGUE.items():
        category = ProductCategory.objects.create(name=name, name_en=name_en)
        for sku, zh, en, unit, price in items:
            products.append(
                Product.objects.create(
                    sku=sku, name=zh, name_en=en, category=category, unit=unit, list_price=Decimal(price)
                )
            )
    key = PriceList.objects.create(
        name="大客户价", name_en="Key accounts", customer_level="key", discount=Decimal("12")
    )
    PriceListItem.objects.create(price_list=key, product=products[1], price=Decimal("42000"))
    PriceList.objects.create(name="A级客户价", name_en="Level A", customer_level="a", discount=Decimal("8"))
    open_deals = Opportunity.objects.filter(status="open", currency="CNY").select_related("customer", "owner")
    for deal in list(open_deals.order_by("id")[:40]):
        chosen = rng.sample(products, rng.randint(1, 3))
        lines = [{"product": p, "quantity": Decimal(rng.choice([1, 2, 5, 10, 20]))} for p in chosen]
        if rng.random() < 0.3:
            lines[0]["discount"] = Decimal(rng.choice([5, 10]))
        opportunity_lines_set(actor=deal.owner, opportunity=deal, lines=lines, version=None)
