"""Django's zh-Hans formats, with amounts grouped by thousands as Chinese invoices and statements print them
(¥1,234,567.89); Django's own leave them ungrouped."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
