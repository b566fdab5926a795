"""Partner authentication: API key format, issuing, and turning a key into a Principal.

Modules: :mod:`auth.api_keys` (the key format), :mod:`auth.scopes`, :mod:`auth.principal`,
:mod:`auth.authenticator` (per-request authentication, ``extract_api_key``) and
:mod:`auth.issuance`::

    from auth.authenticator import Authenticator, extract_api_key

    principal = await authenticator.authenticate(extract_api_key(scope["headers"]) or "")
"""

__all__: list[str] = []
