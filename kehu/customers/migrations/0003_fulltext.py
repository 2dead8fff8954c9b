from django.db import migrations

from kehu.core.search import fts_operations


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]

    operations = [*fts_operations("customers_customer"), *fts_operations("customers_contact")]
