"""The operations people and systems do with verify, one service object per kind of work, all held by
``Services``: the one typed container the app factory builds (``app.extensions["verify"]``)."""

from dataclasses import dataclass

from verify.registry.store import Store
from verify.services.audit import Audit
from verify.services.callback_requests import CallbackRequestService
from verify.services.callbacks import Callbacks
from verify.services.calls import CallChecks
from verify.services.checks import NumberChecks
from verify.services.console import AgentConsole
from verify.services.health import Health
from verify.services.keys import ApiKeyService
from verify.services.limits import ClientLimits
from verify.services.numbers import NumberRegistry
from verify.services.reports import ReportIntake
from verify.services.retention import Retention
from verify.services.review import Review
from verify.services.staff import StaffAccounts
from verify.services.texts import Texts
from verify.services.voice import Voice
from verify.settings import Settings


@dataclass(frozen=True)
class Services:
    """Everything a request, a text or a command needs that outlives it."""

    settings: Settings
    store: Store
    audit: Audit
    checks: NumberChecks
    calls: CallChecks
    callbacks: Callbacks
    callback_requests: CallbackRequestService
    console: AgentConsole
    texts: Texts
    voice: Voice
    intake: ReportIntake
    review: Review
    numbers: NumberRegistry
    staff: StaffAccounts
    keys: ApiKeyService
    client_limits: ClientLimits
    health: Health
    retention: Retention
