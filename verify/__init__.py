"""verify: tells a borrower whether the caller who says "I am calling from your lender" really is.

``create_app`` (in ``verify.app``) is imported on first use, so that importing a pure module such as
``verify.verdicts`` or ``verify.phones`` loads neither Flask nor redis nor twilio.
"""


def __getattr__(name):
    if name == "create_app":
        from verify.app import create_app

        return create_app
    raise AttributeError(f"module 'verify' has no attribute {name!r}")
