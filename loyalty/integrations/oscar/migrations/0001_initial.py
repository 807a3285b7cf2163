from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    # Proxies need only the models they stand for; depending on Oscar's first offer migration lets
    # the adapter follow Oscar's later ones.
    dependencies = [
        ("offer", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="CappedPercentageBenefit",
            fields=[],
            options={
                "verbose_name": "capped percentage discount benefit",
                "verbose_name_plural": "capped percentage discount benefits",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("offer.percentagediscountbenefit",),
        ),
        migrations.CreateModel(
            name="RewardCondition",
            fields=[],
            options={
                "verbose_name": "reward currency condition",
                "verbose_name_plural": "reward currency conditions",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("offer.condition",),
        ),
    ]
