"""The receipt keeps the company's and the clerk's names as issued (P12), so the PDF drawn on each
download never changes after a rename. Payments issued before this migration take the names the
rows have now (the best record there is of them)."""

from django.db import migrations, models


def names_now(apps, schema_editor):
    Payment = apps.get_model("counter", "Payment")
    Company = apps.get_model("accounts", "Company")
    User = apps.get_model("accounts", "User")
    for company_id in Payment.objects.values_list("company_id", flat=True).order_by().distinct():
        name = Company.objects.filter(pk=company_id).values_list("name", flat=True).get()
        Payment.objects.filter(company_id=company_id).update(company_name=name)
    for clerk_id in Payment.objects.values_list("clerk_id", flat=True).order_by().distinct():
        full, username = User.objects.filter(pk=clerk_id).values_list("full_name", "username").get()
        Payment.objects.filter(clerk_id=clerk_id).update(clerk_name=full or username)


class Migration(migrations.Migration):

    dependencies = [
        ('counter', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='payment',
            name='clerk_name',
            field=models.CharField(blank=True, max_length=150, verbose_name='收据上的收款人'),
        ),
        migrations.AddField(
            model_name='payment',
            name='company_name',
            field=models.CharField(blank=True, max_length=100, verbose_name='收据抬头'),
        ),
        migrations.RunPython(names_now, migrations.RunPython.noop),
    ]
