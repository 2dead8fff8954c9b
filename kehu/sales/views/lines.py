"""The product-lines forms of opportunities, quotes and orders: a table of rows, each a product (or, for orders,
a free item), with number columns. One reader for the posted rows and one placer for the service's errors."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kehu.core.exceptions import ApplicationError


def posted_lines(
    post, *, products: dict, numbers: tuple[str, ...], item: str | None = None
) -> tuple[list[dict], list[dict]]:
    """(rows to show again, lines for the service) from the posted columns `product`, `item` (when the form has
    a free-text column) and `numbers`. A row with no product, no text and no quantity is skipped; a line holds
    the chosen Product (or None), the text and each number given as a Decimal."""
    texts = [item] if item else []
    rows, lines = [], []
    for values in zip(*(post.getlist(name) for name in ["product", *texts, *numbers]), strict=False):
        product_raw, *rest = (value.strip() for value in values)
        row = {
            "product_id": int(product_raw) if product_raw.isdigit() else None,
            "amount": None,
            "errors": {},
        }
        row.update(zip([*texts, *numbers], rest, strict=True))
        if not product_raw and not any(row.get(name) for name in texts) and not row["quantity"]:
            continue
        rows.append(row)
        line = {"product": products.get(row["product_id"]), **{name: row[name] for name in texts}}
        if line["product"] is None and (product_raw or not item):
            row["errors"]["product"] = [_("Choose a product.")]
        for name in numbers:
            if not row[name]:
                continue
            try:
                line[name] = Decimal(row[name].replace(",", ""))
            except InvalidOperation:
                line[name] = None
            if line[name] is None or not line[name].is_finite():
                row["errors"][name] = [_("Enter a number.")]
        lines.append(line)
    return rows, lines


def place_errors(rows: list[dict], exc: ApplicationError) -> None:
    """Put a service's `lines.<n>.<field>` errors next to the row and field they name."""
    for key, message in exc.fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
            name = "product" if parts[2] == "product_id" else parts[2]
            rows[int(parts[1])]["errors"][name] = [message]
