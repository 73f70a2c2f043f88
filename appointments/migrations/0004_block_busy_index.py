# The overview's offered hours read each advisor's blocked times over up to
# three years; a partial index holds only the blocks, so the bookings of
# those years are not read to find them.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appointments', '0003_busy_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='appointment',
            index=models.Index(condition=models.Q(('kind', 'block')), fields=['advisor', 'busy_until'], name='appointment_block_busy'),
        ),
    ]
