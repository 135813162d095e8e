from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Lease",
            fields=[
                ("name", models.CharField(max_length=100, primary_key=True, serialize=False, verbose_name="名称")),
                ("holder", models.CharField(blank=True, help_text="主机:进程号:启动时刻；空表示未被持有", max_length=200, verbose_name="持有者")),
                ("acquired_at", models.DateTimeField(blank=True, null=True, verbose_name="获得时间")),
                ("expires_at", models.DateTimeField(blank=True, null=True, verbose_name="到期时间")),
                ("completed_at", models.DateTimeField(blank=True, null=True, verbose_name="上次完成时间")),
                ("completed_by", models.CharField(blank=True, max_length=200, verbose_name="上次完成者")),
            ],
            options={"verbose_name": "任务租约", "verbose_name_plural": "任务租约"},
        ),
    ]
