"""Kehu settings. Every value comes from the environment; `.env.example` lists them all."""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KEHU_VAR_DIR", str(BASE_DIR / "var")))

DEFAULT_SECRET_KEY = "kehu-insecure-development-key-change-me"  # noqa: S105 - refused in production below

KEHU_ENV = env_str("KEHU_ENV", "development")  # development | production
if KEHU_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("KEHU_ENV must be 'development' or 'production'")
SECRET_KEY = env_str("SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = env_bool("DEBUG", default=KEHU_ENV == "development")

if KEHU_ENV == "production":
    if DEBUG:
        raise ImproperlyConfigured("Refusing to start in production with DEBUG on. Set DEBUG=0.")
    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "Refusing to start in production with the default or a short SECRET_KEY. "
            "Set SECRET_KEY to a random string of at least 32 characters."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if KEHU_ENV == "development" else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "simple_history",
    "ninja",
    "kehu.core",
    "kehu.users",
    "kehu.customers",
    "kehu.activities",
    "kehu.sales",
    "kehu.support",
    "kehu.loyalty",
    "kehu.surveys",
    "kehu.marketing",
    "kehu.analytics",
    "kehu.integrations",
    "kehu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kehu.users.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kehu.core.middleware.ApplicationErrorMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kehu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "csp.context_processors.nonce",
                "kehu.activities.context_processors.navigation",
            ],
            "builtins": ["django.templatetags.i18n", "template_partials.templatetags.partials"],
        },
    }
]

DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", "sqlite:///var/kehu.sqlite3"), base_dir=BASE_DIR)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
LOGIN_URL = "users:login"
LOGIN_REDIRECT_URL = "activities:dashboard"
LOGOUT_REDIRECT_URL = "users:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Lockout after repeated failed logins (django-axes), counted per user name.
AXES_FAILURE_LIMIT = env_int("KEHU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("KEHU_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", ["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "users/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": ["'none'"],
        "form-action": [SELF],
    }
}

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "var" / "assets"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Kehu <noreply@localhost>")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

TASKS = {
    "default": {
        "BACKEND": env_str("KEHU_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Product rules an administrator tunes per deployment.
KEHU = {
    "ATTACHMENT_MAX_BYTES": env_int("KEHU_ATTACHMENT_MAX_MB", 20) * 1024 * 1024,
    "ATTACHMENT_EXTENSIONS": env_list(
        "KEHU_ATTACHMENT_EXTENSIONS", "pdf,png,jpg,jpeg,gif,webp,txt,csv,xlsx,docx,pptx,zip,eml,mp3,m4a"
    ),
    "RECYCLE_BIN_DAYS": env_int("KEHU_RECYCLE_BIN_DAYS", 30),
    "IMPORT_MAX_BYTES": env_int("KEHU_IMPORT_MAX_MB", 500) * 1024 * 1024,
    "ORDER_IMPORT_BATCH_ROWS": env_int("KEHU_ORDER_IMPORT_BATCH_ROWS", 5000),
    "PAGE_SIZE": 25,
    "CURRENCY": env_str("KEHU_CURRENCY", "CNY").upper(),  # the company currency that totals are shown in
    # The letterhead of quotes and other documents sent to customers (the company name is the top org unit's).
    "COMPANY_ADDRESS": env_str("KEHU_COMPANY_ADDRESS", ""),
    "COMPANY_PHONE": env_str("KEHU_COMPANY_PHONE", ""),
    "COMPANY_EMAIL": env_str("KEHU_COMPANY_EMAIL", ""),
    "COMPANY_BANK": env_str("KEHU_COMPANY_BANK", ""),
    "COMPANY_TAX_ID": env_str("KEHU_COMPANY_TAX_ID", ""),
    # The service desk's address: replies to customers come from it (DEFAULT_FROM_EMAIL when empty).
    "SUPPORT_EMAIL": env_str("KEHU_SUPPORT_EMAIL", ""),
    "MAIL_DOMAIN": env_str("KEHU_MAIL_DOMAIN", "kehu.local"),  # the right-hand side of Message-IDs we make
    # Inbound e-mail the worker polls every minute: an IMAP folder (imaps://user:password@host:993/INBOX) and/or a
    # Maildir that the local mail server or fetchmail delivers into. Both empty: no inbound e-mail.
    "SUPPORT_IMAP_URL": env_str("KEHU_SUPPORT_IMAP_URL", ""),
    "SUPPORT_MAILDIR": env_str("KEHU_SUPPORT_MAILDIR", ""),
    # Links in mail to customers (status page, rating) start with this address.
    "SITE_URL": env_str("KEHU_SITE_URL", "http://127.0.0.1:8000"),
    "SUPPORT_ACKNOWLEDGE": env_bool("KEHU_SUPPORT_ACKNOWLEDGE", True),  # mail the complainant their number
    "STATUS_LINK_DAYS": env_int("KEHU_STATUS_LINK_DAYS", 30),
    "RATING_DAYS": env_int("KEHU_RATING_DAYS", 7),
    "FOLLOW_UP_DAYS": env_int("KEHU_FOLLOW_UP_DAYS", 3),  # 0: no return visits
    "FOLLOW_UP_TYPES": env_list("KEHU_FOLLOW_UP_TYPES", "complaint,after_sale,dispute"),
    # Text messages: the provider's backend, the approved signature, and at most this many per number a day.
    "SMS_BACKEND": env_str("KEHU_SMS_BACKEND", "kehu.core.sms.FileBackend"),
    "SMS_FILE_DIR": env_str("KEHU_SMS_FILE_DIR") or str(VAR_DIR / "sms"),
    "SMS_SIGNATURE": env_str("KEHU_SMS_SIGNATURE", "客户"),
    "SMS_DAILY_CAP": env_int("KEHU_SMS_DAILY_CAP", 10),
    "SMS_PRICE": env_str(
        "KEHU_SMS_PRICE", "0.045"
    ),  # yuan per billed segment, for the cost preview and budget
    # Marketing never harasses: at most CAP marketing messages per customer in CAP_DAYS days, none during the
    # quiet hours (local time; sends wait until they end), none to a customer with an open complaint.
    "MARKETING_CAP": env_int("KEHU_MARKETING_CAP", 2),
    "MARKETING_CAP_DAYS": env_int("KEHU_MARKETING_CAP_DAYS", 7),
    "QUIET_HOURS": env_str("KEHU_QUIET_HOURS", "21:00-09:00"),
    "MAIL_RATE": env_int(
        "KEHU_MAIL_RATE", 100
    ),  # marketing e-mails handed to the SMTP server per second; 0: no limit
    "MARKETING_FROM_EMAIL": env_str("KEHU_MARKETING_FROM_EMAIL", ""),  # DEFAULT_FROM_EMAIL when empty
}

SITE_NAME = _("Kehu CRM")
