from django.db import migrations

from kehu.core.search import search_vector_operations


class Migration(migrations.Migration):
    """PostgreSQL: full-text search reads a stored tsvector column instead of an index over an expression."""

    dependencies = [("customers", "0003_fulltext")]

    operations = [
        *search_vector_operations("customers_customer"),
        *search_vector_operations("customers_contact"),
    ]
