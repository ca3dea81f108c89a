"""Load every Lantern setting from the environment, once, into one object."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOTENV = ROOT / ".env"


ROLES = ("all", "gateway", "nlg", "console")
# Secrets a real deployment must set (each checked for length and defaults when PUBLIC_URL is https).
SECRET_SETTINGS = ("SECRET_KEY", "SENDER_HASH_KEY", "RASA_TOKEN", "STAFF_API_TOKEN", "TWILIO_AUTH_TOKEN")
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """A setting is missing or invalid."""


def valid_fernet_key(key: str) -> bool:
    """Say whether a string is a Fernet key: 32 bytes in url-safe base64."""
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32 and len(key) == 44
    except (ValueError, binascii.Error):
        return False


def _bool(value: str) -> bool:
    """Parse a boolean environment value."""
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> tuple[str, ...]:
    """Parse a comma-separated environment value."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """Lantern's configuration; every field maps to an upper-case environment variable."""

    public_url: str = "http://127.0.0.1:5000"
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = "dev-auth-token-change-me"
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_sms_from: str = ""
    twilio_whatsapp_from: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'lantern.db'}"
    redis_key_prefix: str = "lantern:"
    rasa_key_prefix: str = "lantern"
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_token: str = "dev-rasa-token-change-me"
    actions_url: str = "http://127.0.0.1:5055"
    rasa_timeout_seconds: float = 8.0
    rasa_connect_timeout_seconds: float = 2.0
    webhook_deadline_seconds: float = 10.0
    twilio_timeout_seconds: float = 10.0
    job_timeout_seconds: int = 60
    job_retries: int = 5
    job_retry_intervals: tuple[int, ...] = (10, 30, 60, 120, 300)
    job_failure_ttl_seconds: int = 7 * 24 * 3600
    secret_key: str = "dev-secret-key-change-me"
    sender_hash_key: str = "dev-sender-hash-key-change-me"
    encryption_keys: tuple[str, ...] = ()
    hotline_number: str = "+254 800 720 000"
    emergency_number: str = "112"
    retention_seconds: int = 30 * 24 * 3600
    closed_case_retention_seconds: int = 90 * 24 * 3600
    dedupe_seconds: int = 30 * 24 * 3600
    audit_retention_seconds: int = 365 * 24 * 3600
    safe_contact_window_seconds: int = 24 * 3600
    rate_limit_per_minute: int = 20
    rate_limit_per_hour: int = 120
    ip_rate_limit_per_minute: int = 600
    max_body_bytes: int = 64 * 1024
    case_transcript_turns: int = 500
    discreet_mode: bool = True
    staff_api_token: str = ""
    staff_session_idle_minutes: int = 30
    staff_session_max_hours: int = 12
    handoff_unclaimed_seconds: int = 300
    handoff_reopen_seconds: int = 3600
    handoff_ack_seconds: int = 300
    nlu_escalation_confidence: float = 0.5
    operating_hours: str = "Mon-Sun 00:00-24:00"
    operating_timezone: str = "UTC"
    holidays: tuple[str, ...] = ()
    oncall_numbers: tuple[str, ...] = ()
    locales_dir: Path = ROOT / "locales"
    intents_dir: Path = ROOT / "intents"
    resources_dir: Path = ROOT / "directory"
    resource_near_km: float = 50.0
    report_min_count: int = 3
    metrics_token: str = ""
    metrics_allowed_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    log_level: str = "INFO"
    proxy_hops: int = 0
    lantern_role: str = "all"
    console_streams_per_process: int = 24
    testing: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from environment variables, then apply explicit overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for item in fields(cls):
            raw = env.get(item.name.upper())
            if raw is None:
                continue
            values[item.name] = _parse(item.name, str(item.type), raw)
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def as_env(self) -> dict[str, str]:
        """Express the settings as the environment variables from_env reads (for child processes)."""
        return {item.name.upper(): ",".join(map(str, value)) if isinstance(value := getattr(self, item.name), tuple)
                else str(value) for item in fields(self)}

    def validate(self) -> None:
        """Refuse settings that would make Lantern unsafe or unusable."""
        if not self.testing and not self.public_url.startswith(("http://", "https://")):
            raise SettingsError("PUBLIC_URL must start with http:// or https://")
        if self.retention_seconds <= 0 or self.closed_case_retention_seconds <= 0:
            raise SettingsError("retention must be positive")
        if self.safe_contact_window_seconds > 24 * 3600:
            raise SettingsError("SAFE_CONTACT_WINDOW_SECONDS cannot exceed WhatsApp's 24 hours")
        if self.dedupe_seconds < self.retention_seconds:
            raise SettingsError("DEDUPE_SECONDS must be at least RETENTION_SECONDS: a replayed message "
                                "must never be answered while anything about the person is kept")
        if not self.rasa_key_prefix.isalnum():
            raise SettingsError("RASA_KEY_PREFIX must be letters and digits only (Rasa ignores any other prefix)")
        if not 1 <= self.webhook_deadline_seconds <= 14:
            raise SettingsError("WEBHOOK_DEADLINE_SECONDS must be between 1 and 14 (Twilio waits 15 s)")
        if self.job_retries < 1 or not self.job_retry_intervals or min(self.job_retry_intervals) < 0:
            raise SettingsError("JOB_RETRIES must be positive and JOB_RETRY_INTERVALS non-negative seconds")
        if self.report_min_count < 1:
            raise SettingsError("REPORT_MIN_COUNT must be at least 1")
        if self.case_transcript_turns < 1:
            raise SettingsError("CASE_TRANSCRIPT_TURNS must be positive")
        if self.proxy_hops < 0:
            raise SettingsError("PROXY_HOPS must be 0 (no proxy) or the number of trusted proxies")
        if self.lantern_role not in ROLES:
            raise SettingsError(f"LANTERN_ROLE must be one of {', '.join(ROLES)}")
        if self.console_streams_per_process < 1:
            raise SettingsError("CONSOLE_STREAMS_PER_PROCESS must be positive")
        if self.public_url.startswith("https://"):
            self.require_deployment_secrets()

    def require_deployment_secrets(self) -> None:
        """Refuse a real deployment (https PUBLIC_URL) with a default, missing or short secret."""
        for name in SECRET_SETTINGS:
            value = str(getattr(self, name.lower()))
            if not value or "change-me" in value or len(value) < MIN_SECRET_LENGTH:
                source = ("paste Twilio's auth token from the Twilio console" if name == "TWILIO_AUTH_TOKEN"
                          else "`lantern run` writes one into a fresh .env")
                raise SettingsError(f"{name} must be a secret of at least {MIN_SECRET_LENGTH} characters, not a "
                                    f"default, when PUBLIC_URL is https ({source})")
        if not self.encryption_keys:
            raise SettingsError("ENCRYPTION_KEYS must list at least one Fernet key when PUBLIC_URL is https: "
                                "the encryption keys may not be derived from SECRET_KEY")
        if not all(valid_fernet_key(key) for key in self.encryption_keys):
            raise SettingsError("ENCRYPTION_KEYS must be Fernet keys (32 random bytes, url-safe base64)")
        ours = self.generated_secrets()
        if self.secret_key in self.encryption_keys or len(set(ours)) < len(ours):
            raise SettingsError("SECRET_KEY, SENDER_HASH_KEY, RASA_TOKEN and STAFF_API_TOKEN must be "
                                "distinct secrets, independent of ENCRYPTION_KEYS")

    def generated_secrets(self) -> list[str]:
        """Return the values of the secrets Lantern generates (not Twilio's token)."""
        return [str(getattr(self, name.lower())) for name in SECRET_SETTINGS if name != "TWILIO_AUTH_TOKEN"]


def _parse(name: str, kind: str, raw: str) -> object:
    """Convert one environment value to the type of its field."""
    try:
        if "tuple[int" in kind:
            return tuple(int(item) for item in _list(raw))
        if "tuple" in kind:
            return _list(raw)
        if "bool" in kind:
            return _bool(raw)
        if "int" in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
        if "Path" in kind:
            return Path(raw)
    except ValueError as exc:
        raise SettingsError(f"{name.upper()}: {exc}") from exc
    return raw


SETTING_NAMES = frozenset(item.name.upper() for item in fields(Settings))


def read_dotenv(path: Path = DOTENV) -> dict[str, str]:
    """Read KEY=VALUE lines from a .env file, taking every value literally.

    Blank lines, `# comments` and a leading `export ` are allowed; a value may be wrapped in
    matching quotes. Nothing is interpolated or executed (make's `include` did both)."""
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name.isidentifier():
            raise SettingsError(f"{path.name} line {number}: expected NAME=value")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def load_dotenv(environ: dict[str, str] | os._Environ[str], path: Path = DOTENV) -> None:
    """Add the settings of a .env file to an environment (variables already set win)."""
    for name, value in read_dotenv(path).items():
        environ.setdefault(name, value)
