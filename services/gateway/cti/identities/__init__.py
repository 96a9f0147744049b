"""The roster's external CTI ids, kept by the gateway so adapters resolve agents (see
:mod:`services.gateway.cti.identities.service`)."""
