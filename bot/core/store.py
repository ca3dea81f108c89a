"""The Redis connection (one per app) and the layout of Lantern's keys."""

from __future__ import annotations

from redis import Redis


def connect(url: str) -> Redis:
    """Open a Redis client that fails fast when the server is unreachable."""
    return Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=1.0, socket_timeout=2.0
    )


def connect_for_jobs(url: str) -> Redis:
    """Open a Redis client that returns bytes, as RQ needs (job data is pickled)."""
    return Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0)


class Keys:
    """Build Redis key names; every key about a person ends with their keyed hash."""

    def __init__(self, prefix: str, rasa_prefix: str) -> None:
        self.prefix = prefix
        self.rasa_prefix = rasa_prefix

    def rasa_tracker(self, person: str) -> str:
        """Key under which Rasa's tracker store keeps a conversation (encrypted)."""
        return f"{self.rasa_prefix}:tracker:{person}"

    def rasa_lock(self, person: str) -> str:
        """Key under which Rasa's lock store keeps a conversation's ticket lock."""
        return f"{self.rasa_prefix}:lock:{person}"

    def rasa_erased(self, marker_id: str) -> str:
        """Key marking when a person was erased (by a hash of their id that links to nothing else),
        so an in-flight Rasa save cannot write their tracker back."""
        return f"{self.rasa_prefix}:erased:{marker_id}"

    def person(self, person: str) -> str:
        """Key of a person's state hash (language, menu, opt-out, last contact)."""
        return f"{self.prefix}person:{person}"

    def transcript(self, person: str) -> str:
        """Key of a person's recent encrypted turns."""
        return f"{self.prefix}transcript:{person}"

    def person_lock(self, person: str) -> str:
        """Key of the lock held while one of a person's messages is handled (one at a time)."""
        return f"{self.prefix}lock:person:{person}"

    def job_queue(self, name: str) -> str:
        """Name of an RQ queue (RQ adds its own `rq:queue:`), behind the prefix."""
        return f"{self.prefix}{name}"

    def job(self, name: str) -> str:
        """RQ job id of a named job (case ids and counters, never a number), behind the prefix."""
        return f"{self.prefix}job:{name}"

    def job_enqueued(self, name: str) -> str:
        """Key marking that a named job was enqueued (a duplicate enqueue is a no-op)."""
        return f"{self.prefix}job:{name}:enqueued"

    def job_text(self, name: str) -> str:
        """Key of a queued message's encrypted text, deleted once its job is done."""
        return f"{self.prefix}job:{name}:text"

    def job_sending(self, name: str) -> str:
        """Key claimed while a named job's message is being handed to Twilio (expires by itself)."""
        return f"{self.prefix}job:{name}:sending"

    def job_sent(self, name: str) -> str:
        """Key marking that a named job's message reached Twilio (a retried job does not send again)."""
        return f"{self.prefix}job:{name}:sent"

    def rasa_pause_lock(self, case_id: str) -> str:
        """Key of the lock that keeps a case's pause and resume jobs from overtaking each other."""
        return f"{self.prefix}lock:rasa:{case_id}"

    def rate(self, person: str, window: str) -> str:
        """Key of a person's message counter in a time window."""
        return f"{self.prefix}rate:{window}:{person}"

    def ip_rate(self, ip_hash: str, window: str) -> str:
        """Key of a client address's request counter in a time window."""
        return f"{self.prefix}iprate:{window}:{ip_hash}"

    def dedupe(self, message_hash: str) -> str:
        """Key marking a provider message id as seen."""
        return f"{self.prefix}seen:{message_hash}"

    def handoff_ack(self, person: str) -> str:
        """Key marking that a person's message to staff was acknowledged recently."""
        return f"{self.prefix}handoffack:{person}"

    def resource_query(self, person: str) -> str:
        """Key of a person's last resource query (place, category, page)."""
        return f"{self.prefix}resq:{person}"

    @property
    def case_events(self) -> str:
        """Pub/sub channel announcing case changes to staff consoles."""
        return f"{self.prefix}events:cases"

    def staff_user(self, user_id: str) -> str:
        """Key of a staff account, by the hash of its username."""
        return f"{self.prefix}staff:account:{user_id}"

    def legacy_staff_user(self, username: str) -> str:
        """Key a staff account had before usernames were hashed in key names (moved on first use)."""
        return f"{self.prefix}staff:user:{username}"

    def staff_session(self, session_hash: str) -> str:
        """Key of a console session, by the hash of its cookie value."""
        return f"{self.prefix}staff:session:{session_hash}"

    def staff_user_sessions(self, user_id: str) -> str:
        """Key of the set of a staff member's session hashes (revoked together)."""
        return f"{self.prefix}staff:sessions:{user_id}"

    @property
    def staff_users(self) -> str:
        """Key of the set of staff usernames."""
        return f"{self.prefix}staff:users"

    @property
    def audit(self) -> str:
        """Key of the staff audit log stream."""
        return f"{self.prefix}audit"

    def login_attempts(self, who: str) -> str:
        """Key counting failed logins for a hashed username or client address."""
        return f"{self.prefix}staff:login:{who}"

    @property
    def retired_keys(self) -> str:
        """Key of the set of fingerprints of encryption keys that rotation retired."""
        return f"{self.prefix}vault:retired"

    def directory_geo(self, category: str | None) -> str:
        """Key of the directory's geo set for a category (or for every resource)."""
        return f"{self.prefix}directory:geo:{category or 'all'}"

    def directory_national(self, country: str) -> str:
        """Key of the list of a country's national entries (hotlines, inspectorates, embassies)."""
        return f"{self.prefix}directory:national:{country}"

    def directory_entry(self, resource_id: str) -> str:
        """Key of one directory entry's JSON."""
        return f"{self.prefix}directory:entry:{resource_id}"

    @property
    def directory_version(self) -> str:
        """Key holding the version (a digest of the files) of the directory loaded in Redis."""
        return f"{self.prefix}directory:version"

    @property
    def directory_pattern(self) -> str:
        """Pattern matching every key of the loaded directory."""
        return f"{self.prefix}directory:*"

    def report_salt(self, day: str) -> str:
        """Key of the random salt that tags contacts in report events for one UTC day (expires after it)."""
        return f"{self.prefix}reports:salt:{day}"

    def person_keys(self, person: str) -> list[str]:
        """Return every fixed-name key (gateway and Rasa tracker) that belongs to one person."""
        return [self.person(person), self.transcript(person),
                self.resource_query(person), self.handoff_ack(person), self.rasa_tracker(person)]
