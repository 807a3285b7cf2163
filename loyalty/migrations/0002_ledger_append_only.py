from django.db import migrations

from ._append_only import ensure_append_only


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [ensure_append_only()]
