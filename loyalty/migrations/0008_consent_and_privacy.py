
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import django_countries.fields
import loyalty.models.consent
import uuid
from django.conf import settings
from django.db import migrations, models

from ._append_only import keep_append_only

# Digital-consent ages: GDPR Art. 8 as set by each member state (16 unless lowered), the UK's 13,
# PIPL's 14 (Art. 28: under-14s' data is sensitive), LGPD's children under 12 (Art. 14, ECA) and
# CCPA's 13 (parents consent for under-13s). Operators edit them in the console.
CONSENT_AGES = {
    "gdpr": {
        "": 16,
        **dict.fromkeys(["BE", "DK", "EE", "FI", "LV", "MT", "PT", "SE"], 13),
        **dict.fromkeys(["AT", "BG", "CY", "ES", "IT", "LT"], 14),
        **dict.fromkeys(["CZ", "FR", "GR", "SI"], 15),
        **dict.fromkeys(["DE", "HR", "HU", "IE", "LU", "NL", "PL", "RO", "SK"], 16),
    },
    "uk_gdpr": {"": 13},
    "pipl": {"": 14},
    "lgpd": {"": 12},
    "ccpa": {"": 13},
}
# Starting retention periods in months; the shop's counsel sets its own.
RETENTION_MONTHS = {
    "inactive_members": 36,
    "consent_evidence": 12,
    "closed_requests": 24,
    "data_exports": 0,
}


def give_members_subject_ids(apps, schema_editor):
    Member = apps.get_model("loyalty", "Member")
    db = schema_editor.connection.alias
    for member in Member.objects.using(db).filter(subject_id__isnull=True).only("pk").iterator():
        Member.objects.using(db).filter(pk=member.pk).update(subject_id=uuid.uuid4())


def move_birth_dates_to_profiles(apps, schema_editor):
    """Existing birth dates move to profiles in this database; see README for moving them to another."""
    Member = apps.get_model("loyalty", "Member")
    MemberProfile = apps.get_model("loyalty", "MemberProfile")
    db = schema_editor.connection.alias
    born = Member.objects.using(db).filter(birth_date__isnull=False).select_related("market")
    MemberProfile.objects.using(db).bulk_create(
        MemberProfile(
            subject_id=member.subject_id,
            region=member.market.residency_region,
            birth_date=member.birth_date,
        )
        for member in born.iterator()
    )


def seed_rules_and_retention(apps, schema_editor):
    JurisdictionRule = apps.get_model("loyalty", "JurisdictionRule")
    RetentionPolicy = apps.get_model("loyalty", "RetentionPolicy")
    db = schema_editor.connection.alias
    JurisdictionRule.objects.using(db).bulk_create(
        JurisdictionRule(regime=regime, country=country, digital_consent_age=age)
        for regime, ages in CONSENT_AGES.items()
        for country, age in ages.items()
    )
    RetentionPolicy.objects.using(db).bulk_create(
        RetentionPolicy(category=category, months=months) for category, months in RETENTION_MONTHS.items()
    )


class Migration(migrations.Migration):

    dependencies = [
        ('loyalty', '0007_reward_catalog'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ConsentEvidence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subject_id', models.UUIDField(db_index=True, verbose_name='subject')),
                ('region', models.CharField(choices=[('eu', 'European Union'), ('uk', 'United Kingdom'), ('cn', 'China'), ('br', 'Brazil'), ('us', 'United States'), ('row', 'rest of the world')], max_length=10, verbose_name='residency region')),
                ('event_id', models.UUIDField(unique=True, verbose_name='consent event')),
                ('ip_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP address')),
                ('user_agent', models.CharField(blank=True, max_length=500, verbose_name='browser')),
                ('recorded_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='recorded at')),
            ],
            options={
                'verbose_name': 'consent evidence',
                'verbose_name_plural': 'consent evidence',
            },
        ),
        migrations.CreateModel(
            name='DataExport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subject_id', models.UUIDField(db_index=True, verbose_name='subject')),
                ('region', models.CharField(choices=[('eu', 'European Union'), ('uk', 'United Kingdom'), ('cn', 'China'), ('br', 'Brazil'), ('us', 'United States'), ('row', 'rest of the world')], max_length=10, verbose_name='residency region')),
                ('request_reference', models.CharField(max_length=20, unique=True, verbose_name='request')),
                ('token', models.CharField(max_length=64, unique=True, verbose_name='link token')),
                ('payload', models.JSONField(verbose_name='data')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('expires_at', models.DateTimeField(db_index=True, verbose_name='link expires at')),
                ('downloaded_at', models.DateTimeField(blank=True, null=True, verbose_name='last downloaded at')),
            ],
            options={
                'verbose_name': 'data export',
                'verbose_name_plural': 'data exports',
            },
        ),
        migrations.CreateModel(
            name='NoticeVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField(verbose_name='version')),
                ('change_type', models.CharField(choices=[('editorial', 'editorial (no renewal)'), ('material', 'material (consents must be renewed)')], default='material', max_length=10, verbose_name='change')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('title_en', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('title_zh_hans', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('title_zh_hant', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('title_ja', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('title_ko', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('title_de', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('title_fr', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('title_es', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('title_pt_br', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('title_ar', models.CharField(max_length=200, null=True, verbose_name='title')),
                ('body', models.TextField(verbose_name='text')),
                ('body_en', models.TextField(null=True, verbose_name='text')),
                ('body_zh_hans', models.TextField(null=True, verbose_name='text')),
                ('body_zh_hant', models.TextField(null=True, verbose_name='text')),
                ('body_ja', models.TextField(null=True, verbose_name='text')),
                ('body_ko', models.TextField(null=True, verbose_name='text')),
                ('body_de', models.TextField(null=True, verbose_name='text')),
                ('body_fr', models.TextField(null=True, verbose_name='text')),
                ('body_es', models.TextField(null=True, verbose_name='text')),
                ('body_pt_br', models.TextField(null=True, verbose_name='text')),
                ('body_ar', models.TextField(null=True, verbose_name='text')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('published_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='published at')),
            ],
            options={
                'verbose_name': 'notice version',
                'verbose_name_plural': 'notice versions',
                'ordering': ['purpose', '-version'],
                'permissions': [('publish_noticeversion', 'Can publish notice versions')],
            },
        ),
        migrations.CreateModel(
            name='ProcessingPurpose',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(help_text='Stable code the program checks: marketing_email, marketing_sms, personalised_offers, birthday_rewards, partner_sharing and cross_border_transfer are checked by the plugin itself.', unique=True, verbose_name='code')),
                ('name', models.CharField(max_length=120, verbose_name='name')),
                ('name_en', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('name_zh_hans', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('name_zh_hant', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('name_ja', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('name_ko', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('name_de', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('name_fr', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('name_es', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('name_pt_br', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('name_ar', models.CharField(max_length=120, null=True, verbose_name='name')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('description_en', models.TextField(blank=True, null=True, verbose_name='description')),
                ('description_zh_hans', models.TextField(blank=True, null=True, verbose_name='description')),
                ('description_zh_hant', models.TextField(blank=True, null=True, verbose_name='description')),
                ('description_ja', models.TextField(blank=True, null=True, verbose_name='description')),
                ('description_ko', models.TextField(blank=True, null=True, verbose_name='description')),
                ('description_de', models.TextField(blank=True, null=True, verbose_name='description')),
                ('description_fr', models.TextField(blank=True, null=True, verbose_name='description')),
                ('description_es', models.TextField(blank=True, null=True, verbose_name='description')),
                ('description_pt_br', models.TextField(blank=True, null=True, verbose_name='description')),
                ('description_ar', models.TextField(blank=True, null=True, verbose_name='description')),
                ('category', models.CharField(choices=[('membership', 'membership'), ('marketing_email', 'marketing e-mail'), ('marketing_sms', 'marketing SMS'), ('personalised_offers', 'personalised offers and profiling'), ('birthday_rewards', 'birthday rewards'), ('partner_sharing', 'sharing with partners'), ('cross_border_transfer', 'transfer abroad'), ('public_display', 'public display'), ('other', 'other')], max_length=30, verbose_name='category')),
                ('data_categories', models.JSONField(blank=True, default=list, validators=[loyalty.models.consent.validate_data_categories], verbose_name='data categories')),
                ('is_sensitive', models.BooleanField(default=False, verbose_name='sensitive data')),
                ('required_for_service', models.BooleanField(default=False, help_text='Processing without which the program cannot run; members are told, never asked.', verbose_name='required for the membership')),
                ('sort_order', models.PositiveIntegerField(default=0, verbose_name='sort order')),
                ('is_active', models.BooleanField(default=False, help_text='Activate it with the console action, which checks that every regime has a basis.', verbose_name='active')),
            ],
            options={
                'verbose_name': 'processing purpose',
                'verbose_name_plural': 'processing purposes',
                'ordering': ['sort_order', 'code'],
            },
        ),
        migrations.CreateModel(
            name='Recipient',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('role', models.CharField(choices=[('processor', "processor (acts on the shop's instructions)"), ('controller', 'independent controller'), ('joint', 'joint controller')], max_length=10, verbose_name='role')),
                ('country', django_countries.fields.CountryField(max_length=2, verbose_name='country')),
                ('contact', models.CharField(blank=True, max_length=255, verbose_name='contact')),
                ('processes_sensitive_data', models.BooleanField(default=False, verbose_name='receives sensitive data')),
            ],
            options={
                'verbose_name': 'recipient',
                'verbose_name_plural': 'recipients',
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='RequestMessage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subject_id', models.UUIDField(db_index=True, verbose_name='subject')),
                ('region', models.CharField(choices=[('eu', 'European Union'), ('uk', 'United Kingdom'), ('cn', 'China'), ('br', 'Brazil'), ('us', 'United States'), ('row', 'rest of the world')], max_length=10, verbose_name='residency region')),
                ('request_reference', models.CharField(db_index=True, max_length=20, verbose_name='request')),
                ('text', models.TextField(verbose_name='message')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='written at')),
            ],
            options={
                'verbose_name': 'request message',
                'verbose_name_plural': 'request messages',
            },
        ),
        migrations.CreateModel(
            name='RetentionPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('category', models.CharField(choices=[('inactive_members', 'inactive members (erased)'), ('consent_evidence', 'IP address and device of consent decisions'), ('closed_requests', 'messages of closed privacy requests'), ('data_exports', 'data exports after their link expired')], max_length=20, unique=True, verbose_name='data')),
                ('months', models.PositiveIntegerField(verbose_name='kept for (months)')),
                ('is_active', models.BooleanField(default=True, verbose_name='applied')),
                ('note', models.CharField(blank=True, max_length=255, verbose_name='legal basis of the period')),
            ],
            options={
                'verbose_name': 'retention policy',
                'verbose_name_plural': 'retention policies',
                'ordering': ['category'],
            },
        ),
        migrations.CreateModel(
            name='RetentionRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('category', models.CharField(choices=[('inactive_members', 'inactive members (erased)'), ('consent_evidence', 'IP address and device of consent decisions'), ('closed_requests', 'messages of closed privacy requests'), ('data_exports', 'data exports after their link expired')], max_length=20, verbose_name='data')),
                ('cutoff', models.DateTimeField(verbose_name='older than')),
                ('affected', models.PositiveIntegerField(verbose_name='rows handled')),
                ('skipped', models.PositiveIntegerField(default=0, verbose_name='held back')),
                ('ran_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='ran at')),
            ],
            options={
                'verbose_name': 'retention run',
                'verbose_name_plural': 'retention runs',
                'ordering': ['-ran_at'],
            },
        ),
        migrations.CreateModel(
            name='SuppressionEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('identifier_hash', models.CharField(max_length=64, unique=True, validators=[django.core.validators.RegexValidator('^[0-9a-f]{64}$')], verbose_name='address hash')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='since')),
            ],
            options={
                'verbose_name': 'suppressed address',
                'verbose_name_plural': 'suppressed addresses',
                'ordering': ['-created_at'],
            },
        ),
        migrations.AddField(
            model_name='market',
            name='minimum_age',
            field=models.PositiveSmallIntegerField(blank=True, help_text='Empty: no minimum. With a minimum, members must give their birth date to join.', null=True, verbose_name='minimum membership age'),
        ),
        migrations.AddField(
            model_name='market',
            name='residency_region',
            field=models.CharField(choices=[('eu', 'European Union'), ('uk', 'United Kingdom'), ('cn', 'China'), ('br', 'Brazil'), ('us', 'United States'), ('row', 'rest of the world')], default='row', help_text="Where its members' personal data is stored.", max_length=10, verbose_name='residency region'),
        ),
        migrations.AddField(
            model_name='member',
            name='erased_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='erased at'),
        ),
        migrations.AddField(
            model_name='member',
            name='legal_hold',
            field=models.CharField(blank=True, help_text='Why this member must not be erased now.', max_length=255, verbose_name='legal hold'),
        ),
        migrations.AddField(
            model_name='member',
            name='restricted_at',
            field=models.DateTimeField(blank=True, help_text='While restricted, nothing beyond the membership itself is processed.', null=True, verbose_name='processing restricted since'),
        ),
        migrations.AddField(
            model_name='member',
            name='subject_id',
            field=models.UUIDField(editable=False, null=True, verbose_name='pseudonymous id'),
        ),
        migrations.RunPython(give_members_subject_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='member',
            name='subject_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='pseudonymous id'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='entry_type',
            field=models.CharField(choices=[('earn', 'earned'), ('release', 'released'), ('redeem', 'redeemed'), ('reversal', 'reversed'), ('expiry', 'expired'), ('adjustment', 'adjusted'), ('bonus', 'bonus'), ('forfeit', 'forfeited on erasure')], max_length=12, verbose_name='type'),
        ),
        migrations.CreateModel(
            name='ConsentEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='event id')),
                ('action', models.CharField(choices=[('granted', 'granted'), ('refused', 'refused'), ('withdrawn', 'withdrawn'), ('objected', 'objected')], max_length=10, verbose_name='decision')),
                ('regimes', models.JSONField(default=list, verbose_name='regimes')),
                ('language', models.CharField(blank=True, max_length=15, verbose_name='language shown')),
                ('text_sha256', models.CharField(blank=True, max_length=64, verbose_name='hash of the text shown')),
                ('is_separate', models.BooleanField(default=False, help_text='Given for this purpose alone, not with others.', verbose_name='separate consent')),
                ('actor', models.CharField(choices=[('member', 'the member'), ('guardian', 'a parent or guardian'), ('agent', 'an authorised agent'), ('operator', "staff, on the member's request")], max_length=10, verbose_name='given by')),
                ('method', models.CharField(choices=[('web', 'website'), ('app', 'app'), ('pos', 'point of sale'), ('api', 'API'), ('import', 'import'), ('admin', 'console')], max_length=10, verbose_name='method')),
                ('collection_point', models.CharField(blank=True, max_length=100, verbose_name='collection point')),
                ('request_id', models.CharField(blank=True, max_length=64, verbose_name='request id')),
                ('occurred_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='at')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consent_events', to='loyalty.member', verbose_name='member')),
                ('operator', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='staff user')),
                ('notice_version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loyalty.noticeversion', verbose_name='notice version')),
                ('purpose', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loyalty.processingpurpose', verbose_name='purpose')),
            ],
            options={
                'verbose_name': 'consent event',
                'verbose_name_plural': 'consent events',
                'ordering': ['-id'],
            },
        ),
        migrations.CreateModel(
            name='DataSubjectRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(editable=False, max_length=20, unique=True, verbose_name='reference')),
                ('kind', models.CharField(choices=[('access', 'access to my data'), ('portability', 'a copy of my data to take elsewhere'), ('rectification', 'correction of my data'), ('erasure', 'erasure of my data'), ('restriction', 'restriction of processing'), ('objection', 'objection to processing'), ('withdrawal', 'withdrawal of all my consents')], max_length=15, verbose_name='request')),
                ('status', models.CharField(choices=[('received', 'received'), ('in_progress', 'in progress'), ('on_hold', 'on hold'), ('fulfilled', 'fulfilled'), ('rejected', 'rejected'), ('withdrawn', 'withdrawn')], default='received', max_length=12, verbose_name='status')),
                ('regimes', models.JSONField(default=list, verbose_name='regimes')),
                ('channel', models.CharField(choices=[('member_center', 'member center'), ('api', 'API'), ('console', "console, on the member's behalf")], max_length=15, verbose_name='channel')),
                ('received_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='received at')),
                ('due_at', models.DateTimeField(verbose_name='due')),
                ('original_due_at', models.DateTimeField(verbose_name='first due date')),
                ('extension_reason', models.CharField(blank=True, max_length=255, verbose_name='reason for the extension')),
                ('hold_reason', models.CharField(blank=True, max_length=255, verbose_name='on hold because')),
                ('rejection_ground', models.CharField(blank=True, choices=[('unfounded', 'manifestly unfounded (GDPR Art. 12(5))'), ('excessive', 'excessive or repetitive (GDPR Art. 12(5))'), ('identity', 'identity could not be verified (GDPR Art. 12(6))'), ('legal_obligation', 'data kept under a legal obligation (GDPR Art. 17(3)(b))'), ('legal_claims', 'needed for legal claims (GDPR Art. 17(3)(e))'), ('others_rights', "would disclose other people's data (GDPR Art. 15(4))")], max_length=20, verbose_name='legal ground of the rejection')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed at')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='privacy_requests', to='loyalty.member', verbose_name='member')),
            ],
            options={
                'verbose_name': 'privacy request',
                'verbose_name_plural': 'privacy requests',
                'ordering': ['due_at'],
                'permissions': [('handle_privacy_request', 'Can handle privacy requests'), ('erase_member', 'Can erase members')],
            },
        ),
        migrations.CreateModel(
            name='JurisdictionRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('regime', models.CharField(choices=[('gdpr', 'GDPR (EU/EEA)'), ('uk_gdpr', 'UK GDPR'), ('pipl', 'PIPL (China)'), ('lgpd', 'LGPD (Brazil)'), ('ccpa', 'CCPA (California)')], max_length=10, verbose_name='regime')),
                ('country', django_countries.fields.CountryField(blank=True, help_text='Empty: every country of the regime.', max_length=2, verbose_name='country')),
                ('digital_consent_age', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(21)], verbose_name='digital consent age')),
            ],
            options={
                'verbose_name': 'jurisdiction rule',
                'verbose_name_plural': 'jurisdiction rules',
                'ordering': ['regime', 'country'],
                'constraints': [models.UniqueConstraint(fields=('regime', 'country'), name='loyalty_jurisdiction_unique')],
            },
        ),
        migrations.CreateModel(
            name='MemberProfile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subject_id', models.UUIDField(db_index=True, verbose_name='subject')),
                ('region', models.CharField(choices=[('eu', 'European Union'), ('uk', 'United Kingdom'), ('cn', 'China'), ('br', 'Brazil'), ('us', 'United States'), ('row', 'rest of the world')], max_length=10, verbose_name='residency region')),
                ('birth_date', models.DateField(blank=True, null=True, verbose_name='birth date')),
                ('country', django_countries.fields.CountryField(blank=True, max_length=2, verbose_name='country of residence')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'member profile',
                'verbose_name_plural': 'member profiles',
                'constraints': [models.UniqueConstraint(fields=('subject_id',), name='loyalty_profile_unique')],
            },
        ),
        migrations.AddField(
            model_name='noticeversion',
            name='purpose',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notices', to='loyalty.processingpurpose', verbose_name='purpose'),
        ),
        migrations.CreateModel(
            name='ConsentState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('granted', 'granted'), ('refused', 'refused'), ('withdrawn', 'withdrawn'), ('objected', 'objected'), ('renewal_required', 'to be renewed')], max_length=20, verbose_name='status')),
                ('by_guardian', models.BooleanField(default=False, verbose_name='given by a guardian')),
                ('is_separate', models.BooleanField(default=False, verbose_name='separate consent')),
                ('decided_at', models.DateTimeField(verbose_name='decided at')),
                ('last_event', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loyalty.consentevent', verbose_name='last event')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='loyalty.member', verbose_name='member')),
                ('notice_version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loyalty.noticeversion', verbose_name='notice version')),
                ('purpose', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loyalty.processingpurpose', verbose_name='purpose')),
            ],
            options={
                'verbose_name': 'consent',
                'verbose_name_plural': 'consents',
                'ordering': ['member', 'purpose'],
            },
        ),
        migrations.CreateModel(
            name='PurposeBasis',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('regime', models.CharField(choices=[('gdpr', 'GDPR (EU/EEA)'), ('uk_gdpr', 'UK GDPR'), ('pipl', 'PIPL (China)'), ('lgpd', 'LGPD (Brazil)'), ('ccpa', 'CCPA (California)')], max_length=10, verbose_name='regime')),
                ('lawful_basis', models.CharField(choices=[('consent', 'consent'), ('contract', 'performance of a contract'), ('legal_obligation', 'legal obligation'), ('legitimate_interest', 'legitimate interest')], max_length=20, verbose_name='lawful basis')),
                ('consent_kind', models.CharField(choices=[('none', 'no consent needed'), ('opt_in', 'opt-in'), ('explicit', 'explicit consent'), ('separate', 'separate consent (PIPL)'), ('guardian', 'guardian consent')], default='none', max_length=10, verbose_name='consent required')),
                ('purpose', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='bases', to='loyalty.processingpurpose', verbose_name='purpose')),
            ],
            options={
                'verbose_name': 'lawful basis',
                'verbose_name_plural': 'lawful bases',
                'ordering': ['purpose', 'regime'],
            },
        ),
        migrations.AddField(
            model_name='processingpurpose',
            name='recipients',
            field=models.ManyToManyField(blank=True, related_name='purposes', to='loyalty.recipient', verbose_name='recipients'),
        ),
        migrations.CreateModel(
            name='RequestStatusEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(blank=True, choices=[('received', 'received'), ('in_progress', 'in progress'), ('on_hold', 'on hold'), ('fulfilled', 'fulfilled'), ('rejected', 'rejected'), ('withdrawn', 'withdrawn')], max_length=12, verbose_name='from')),
                ('to_status', models.CharField(choices=[('received', 'received'), ('in_progress', 'in progress'), ('on_hold', 'on hold'), ('fulfilled', 'fulfilled'), ('rejected', 'rejected'), ('withdrawn', 'withdrawn')], max_length=12, verbose_name='to')),
                ('note', models.CharField(blank=True, max_length=255, verbose_name='note')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='staff user')),
                ('request', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='history', to='loyalty.datasubjectrequest', verbose_name='request')),
            ],
            options={
                'verbose_name': 'request history',
                'verbose_name_plural': 'request history',
                'ordering': ['at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='processingpurpose',
            name='retention',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='purposes', to='loyalty.retentionpolicy', verbose_name='retention policy'),
        ),
        migrations.CreateModel(
            name='Transfer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('regime', models.CharField(choices=[('gdpr', 'GDPR (EU/EEA)'), ('uk_gdpr', 'UK GDPR'), ('pipl', 'PIPL (China)'), ('lgpd', 'LGPD (Brazil)'), ('ccpa', 'CCPA (California)')], max_length=10, verbose_name='regime')),
                ('mechanism', models.CharField(choices=[('adequacy', 'adequacy decision'), ('scc', 'standard contractual clauses'), ('bcr', 'binding corporate rules'), ('derogation', 'GDPR Art. 49 derogation'), ('pipl_contract', 'PIPL standard contract'), ('pipl_certification', 'PIPL certification'), ('pipl_assessment', 'CAC security assessment'), ('pipl_exemption', 'exempt under the 2024 CAC provisions'), ('lgpd_clauses', 'ANPD standard clauses'), ('lgpd_specific', 'specific contractual clauses')], max_length=20, verbose_name='mechanism')),
                ('reference', models.CharField(blank=True, help_text='Contract, filing or decision.', max_length=200, verbose_name='document reference')),
                ('valid_until', models.DateField(blank=True, null=True, verbose_name='valid until')),
                ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='transfers', to='loyalty.recipient', verbose_name='recipient')),
            ],
            options={
                'verbose_name': 'transfer mechanism',
                'verbose_name_plural': 'transfer mechanisms',
                'ordering': ['recipient', 'regime'],
            },
        ),
        migrations.CreateModel(
            name='TransferRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField(verbose_name='year')),
                ('sensitive', models.BooleanField(default=False, verbose_name='sensitive data')),
                ('first_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='first transfer')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='transfers', to='loyalty.member', verbose_name='member')),
                ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='records', to='loyalty.recipient', verbose_name='recipient')),
            ],
            options={
                'verbose_name': 'transfer record',
                'verbose_name_plural': 'transfer records',
            },
        ),
        migrations.AddIndex(
            model_name='datasubjectrequest',
            index=models.Index(fields=['status', 'due_at'], name='loyalty_request_queue'),
        ),
        migrations.AddConstraint(
            model_name='noticeversion',
            constraint=models.UniqueConstraint(fields=('purpose', 'version'), name='loyalty_notice_unique_version'),
        ),
        migrations.AddConstraint(
            model_name='consentstate',
            constraint=models.UniqueConstraint(fields=('member', 'purpose'), name='loyalty_consentstate_unique'),
        ),
        migrations.AddIndex(
            model_name='consentevent',
            index=models.Index(fields=['member', 'purpose', 'id'], name='loyalty_consent_history'),
        ),
        migrations.AddConstraint(
            model_name='purposebasis',
            constraint=models.UniqueConstraint(fields=('purpose', 'regime'), name='loyalty_purposebasis_unique'),
        ),
        migrations.AddConstraint(
            model_name='transfer',
            constraint=models.UniqueConstraint(fields=('recipient', 'regime'), name='loyalty_transfer_unique'),
        ),
        migrations.AddConstraint(
            model_name='transferrecord',
            constraint=models.UniqueConstraint(fields=('recipient', 'member', 'year'), name='loyalty_transferrecord_unique'),
        ),
            migrations.RunPython(move_birth_dates_to_profiles, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='member',
            name='birth_date',
        ),
        migrations.RunPython(seed_rules_and_retention, migrations.RunPython.noop),
        keep_append_only(),
    ]
