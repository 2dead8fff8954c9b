"""Texts per part of the sales process; `kehu.sales.notifications` gathers them."""
