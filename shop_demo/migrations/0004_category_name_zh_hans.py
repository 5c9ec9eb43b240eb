from django.db import migrations, models


def name_categories(apps, schema_editor):
    """The categories loaded before this field get their Chinese names from the shipped table."""
    from shop_demo.catalog.categories import NAMES_ZH_HANS

    Category = apps.get_model("shop_demo", "Category")
    for name, chinese in NAMES_ZH_HANS.items():
        Category.objects.filter(name=name, name_zh_hans="").update(name_zh_hans=chinese)


class Migration(migrations.Migration):
    dependencies = [
        ("shop_demo", "0003_order_checkout_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="name_zh_hans",
            field=models.CharField(blank=True, max_length=100, verbose_name="name (Simplified Chinese)"),
        ),
        migrations.RunPython(name_categories, migrations.RunPython.noop),
    ]
