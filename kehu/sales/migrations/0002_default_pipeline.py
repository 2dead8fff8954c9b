"""A fresh installation starts with one pipeline, open to every unit, so opportunities can be entered at once."""

from django.db import migrations

STAGES = [
    # name, English name, probability, outcome, fields required to enter
    ("初步接洽", "Qualification", 10, "open", []),
    ("需求分析", "Needs analysis", 25, "open", []),
    ("方案报价", "Proposal", 50, "open", ["amount", "expected_close_on"]),
    ("商务谈判", "Negotiation", 75, "open", ["amount", "expected_close_on", "next_step"]),
    ("赢单", "Won", 100, "won", ["amount"]),
    ("输单", "Lost", 0, "lost", []),
]


def create(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    if Pipeline.objects.exists():
        return
    pipeline = Pipeline.objects.create(name="新业务", name_en="New business", position=0)
    for position, (name, name_en, probability, outcome, required) in enumerate(STAGES):
        Stage.objects.create(
            pipeline=pipeline,
            name=name,
            name_en=name_en,
            position=position,
            probability=probability,
            outcome=outcome,
            required_fields=required,
        )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
