"""The Redis connection (one per app) and the layout of Lantern's keys."""

from __future__ import annotations

from redis import Redis


def connect(url: str) -> Redis:
    """Open a Redis client that fails fast when the server is unreachable."""
    return Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=1.0, socket_timeout=2.0
    )


class Keys:
    """Build Redis key names; every key about a person ends with their keyed hash."""

    def __init__(self, prefix: str, rasa_prefix: str) -> None:
        self.prefix = prefix
        self.rasa_prefix = rasa_prefix

    def rasa_tracker(self, person: str) -> str:
        """Key under which Rasa's Redis tracker store keeps a conversation."""
        return f"{self.rasa_prefix}:tracker:{person}"

    def person(self, person: str) -> str:
        """Key of a person's state hash (language, menu, opt-out, last contact)."""
        return f"{self.prefix}person:{person}"

    def transcript(self, person: str) -> str:
        """Key of a person's recent encrypted turns."""
        return f"{self.prefix}transcript:{person}"

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

    def person_case(self, person: str) -> str:
        """Key holding the id of a person's current or last case."""
        return f"{self.prefix}personcase:{person}"

    def case(self, case_id: str) -> str:
        """Key of a case record hash."""
        return f"{self.prefix}case:{case_id}"

    def case_transcript(self, case_id: str) -> str:
        """Key of a case's encrypted transcript list."""
        return f"{self.prefix}case:{case_id}:transcript"

    def case_notes(self, case_id: str) -> str:
        """Key of a case's staff notes list."""
        return f"{self.prefix}case:{case_id}:notes"

    def case_timeline(self, case_id: str) -> str:
        """Key of a case's encrypted list of events (opened, claimed, transferred, ...)."""
        return f"{self.prefix}case:{case_id}:timeline"

    def person_cases(self, person: str) -> str:
        """Key of the sorted set of every case of one person (ids by opening time)."""
        return f"{self.prefix}personcases:{person}"

    @property
    def open_cases(self) -> str:
        """Key of the sorted set of cases not yet closed."""
        return f"{self.prefix}cases:active"

    @property
    def all_cases(self) -> str:
        """Key of the sorted set of every case (for listing closed ones)."""
        return f"{self.prefix}cases:all"

    @property
    def case_events(self) -> str:
        """Pub/sub channel announcing case changes to staff consoles."""
        return f"{self.prefix}events:cases"

    def staff_user(self, username: str) -> str:
        """Key of a staff account."""
        return f"{self.prefix}staff:user:{username}"

    @property
    def staff_users(self) -> str:
        """Key of the set of staff usernames."""
        return f"{self.prefix}staff:users"

    @property
    def audit(self) -> str:
        """Key of the staff audit log stream."""
        return f"{self.prefix}audit"

    def login_attempts(self, who: str) -> str:
        """Key counting failed logins for a username or client address."""
        return f"{self.prefix}staff:login:{who}"

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

    def person_keys(self, person: str) -> list[str]:
        """Return every fixed-name key (gateway and Rasa tracker) that belongs to one person."""
        return [self.person(person), self.transcript(person), self.person_case(person),
                self.resource_query(person), self.handoff_ack(person), self.rasa_tracker(person),
                self.person_cases(person)]
