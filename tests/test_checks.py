from loyalty.checks import (
    check_content_languages,
    check_database,
    check_installed_apps,
    check_settings,
    check_webhooks,
)


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_the_demo_configuration_passes(settings):
    assert check_settings() == []
    assert check_installed_apps() == []


def test_an_unknown_setting_is_an_error(settings):
    settings.LOYALTY = {"PENDING_DAY": 14}
    assert ids(check_settings()) == ["loyalty.E002"]


def test_an_unknown_negative_balance_policy_is_an_error(settings):
    settings.LOYALTY = {"NEGATIVE_BALANCE_POLICY": "forgive"}
    assert ids(check_settings()) == ["loyalty.E003"]


def test_an_unknown_expired_reward_policy_is_an_error(settings):
    settings.LOYALTY = {"EXPIRED_REWARD_POLICY": "keep"}
    assert ids(check_settings()) == ["loyalty.E003"]


def test_a_fulfilment_backend_that_does_not_import_is_an_error(settings):
    settings.LOYALTY = {"FULFILMENT_BACKEND": "nowhere.Backend"}
    assert ids(check_settings()) == ["loyalty.E011"]


def test_a_redemption_quantity_limit_below_one_is_an_error(settings):
    settings.LOYALTY = {"REDEMPTION_MAX_QUANTITY": 0}
    assert ids(check_settings()) == ["loyalty.E004"]


def test_numbers_must_be_whole_and_in_range(settings):
    settings.LOYALTY = {"PENDING_DAYS": -1, "BATCH_SIZE": 0, "POINTS_LIFETIME_DAYS": 1.5}
    assert sorted(ids(check_settings())) == ["loyalty.E004", "loyalty.E004", "loyalty.E005"]


def test_an_authentication_class_that_does_not_import_is_an_error(settings):
    settings.LOYALTY = {"API_AUTHENTICATION_CLASSES": ["nowhere.Auth"]}
    assert ids(check_settings()) == ["loyalty.E006"]


def test_missing_companion_apps_are_errors(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django_filters"]
    assert "loyalty.E007" in ids(check_installed_apps())


def test_modeltranslation_after_admin_is_an_error(settings):
    apps = [app for app in settings.INSTALLED_APPS if app != "modeltranslation"]
    settings.INSTALLED_APPS = [*apps, "modeltranslation"]
    assert "loyalty.E008" in ids(check_installed_apps())


def test_token_authentication_without_the_authtoken_app_is_a_warning(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "rest_framework.authtoken"]
    assert ids(check_installed_apps()) == ["loyalty.W002"]


def test_sqlite_gets_a_warning_about_row_locks(db):
    from django.db import connection

    warnings = ids(check_database(databases=["default"]))
    assert warnings == (["loyalty.W001"] if connection.vendor == "sqlite" else [])


def test_a_per_process_rate_cache_in_production_is_a_warning(settings):
    from loyalty.checks import check_rate_cache

    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ids(check_rate_cache()) == ["loyalty.W003"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert check_rate_cache() == []


def test_a_host_storing_other_content_languages_is_told_what_to_do(settings):
    settings.MODELTRANSLATION_LANGUAGES = ("en", "nl")
    errors = check_content_languages()
    assert ids(errors) == ["loyalty.E009"]
    assert "MIGRATION_MODULES" in errors[0].hint


def test_a_host_owning_the_plugin_migrations_may_store_any_languages(settings):
    settings.MODELTRANSLATION_LANGUAGES = ("en", "nl")
    settings.MIGRATION_MODULES = {"loyalty": "shop.loyalty_migrations"}
    assert check_content_languages() == []


def test_an_unknown_tier_window_is_reported(settings):
    settings.LOYALTY = {**settings.LOYALTY, "TIER_WINDOW": "fortnight", "TIER_GRACE_DAYS": -1}
    assert sorted(ids(check_settings())) == ["loyalty.E004", "loyalty.E010"]


def test_a_webhook_url_without_a_secret_is_an_error(settings):
    settings.LOYALTY = {"WEBHOOK_URL": "https://shop.example/loyalty-events"}
    assert ids(check_webhooks()) == ["loyalty.E014"]


def test_a_webhook_url_that_is_not_http_is_an_error(settings):
    settings.LOYALTY = {"WEBHOOK_URL": "file:///etc/passwd", "WEBHOOK_SECRET": "s"}
    assert ids(check_webhooks()) == ["loyalty.E014"]


def test_event_source_secrets_must_be_text(settings):
    settings.LOYALTY = {"WEBHOOK_SECRETS": {"pos": 42}}
    assert ids(check_webhooks()) == ["loyalty.E015"]


def test_rotating_secrets_are_accepted(settings):
    settings.LOYALTY = {"WEBHOOK_SECRETS": {"pos": ["new", "old"]}}
    assert check_webhooks() == []
