"""The agent console: callback sessions a logged-in agent opens before dialling, under the agent's
display name and agent id, from a callback line of the registry.

It never kills a live code by accident: starting a session for a borrower who has a live one shows
that session instead (its code still works); replacing it is an action of its own, which the page
says stops the old code.
"""

from verify import phones
from verify import verdicts as v
from verify.errors import Invalid
from verify.services.actor import Actor

# The purpose of a session that answers a borrower's callback request (shown with the session).
CALLBACK_PURPOSE = "回电申请 / callback request"


class AgentConsole:
    """The console's operations; built once with the sessions, the staff accounts and the registry."""

    def __init__(self, callbacks, staff, numbers, region, callback_requests=None):
        self._callbacks = callbacks
        self._callback_requests = callback_requests
        self._staff = staff
        self._numbers = numbers
        self._region = region

    def lines(self):
        """The numbers an agent may call from: active, calling out, never an SMS number; callback lines
        first (the first of them is the default), then other lines that call out."""
        usable = [e for e in self._numbers.outbound() if e["purpose"] != "sms"]
        return sorted(usable, key=lambda e: (e["purpose"] != "callback", e["direction"] != "outbound"))

    @staticmethod
    def default_line(lines):
        """The line the form starts with: the first active outbound callback line (None when the
        registry has none: the agent must choose)."""
        return next((e["number"] for e in lines if e["purpose"] == "callback"), None)

    def me(self, actor: Actor):
        """Who the agent is to borrowers (display name, agent id), or None until an admin gives the
        account a display name."""
        try:
            agent = self._staff.agent(actor.who)
        except Invalid:
            return None
        return {**agent, "masked": v.mask_name(agent["display_name"])}

    def start(self, actor, borrower_raw, caller, purpose):
        """Open a session, or (``live``) answer the borrower's live one, left as it is; ``NewSession``.
        ``Invalid`` for a bad number, line or purpose, or while the agent has no display name."""
        agent = self._staff.agent(actor.who)
        return self._callbacks.open_for_agent(actor, agent, borrower_raw, caller, purpose, self.lines())[1]

    def replace(self, actor, session_id):
        """Replace the session with a new one (a new code; the old code stops working), unless another
        became the borrower's live session meanwhile (``live``: that one). ``NotFound``, ``Invalid``."""
        return self._callbacks.replace_for_agent(actor, self._staff.agent(actor.who), session_id, self.lines())

    def call_back(self, actor, request_id):
        """Answer a borrower's callback request: a session for their number from the default callback
        line, exactly as ``start`` opens one (a live session is answered instead and left as it is), with
        the pre-call notice texted to them; the request is closed with the new session's id (audited).
        With a live session the request stays open (someone is on the phone with the borrower already).
        ``NotFound``, ``Conflict`` (answered already), ``Invalid`` (no display name, no callback line)."""
        requests = self._callback_requests
        request, e164 = requests.borrower(request_id)
        agent = self._staff.agent(actor.who)
        lines = self.lines()
        opened = self._callbacks.open_for_agent(actor, agent, e164, self.default_line(lines) or "", CALLBACK_PURPOSE,
                                                lines, notify=True)[1]
        if not opened.live:
            requests.close_with(actor, request, opened.id)
        return opened

    def session(self, actor, session_id):
        """The session's state as the console shows it, with the agent's name as borrowers see it (masked);
        its code only to the staff member who opened it, while it can still be checked."""
        state = self._callbacks.state_for_agent(session_id, actor.who)
        return {**state, "agent_masked": v.mask_name(state["agent_name"]),
                "caller_display": phones.display(state["caller"], self._region)}
