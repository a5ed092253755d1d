"""The sandbox's BiPRO services, one module per norm, each interpreting requests and building replies.

* :mod:`.soap` - SOAP 1.1 shared by all: parsing, envelopes, ``nac:Status``, Faults (Norm 250), NOK;
* :mod:`.sts` - Norm 410 security token service (password, certificate and VDG ticket ports), with
  :mod:`.tickets` - the VDG tickets; :mod:`.ists` - the TGIC ISTS (WS-Trust 1.3/1.4, mTAN, SAML);
  :mod:`.transfer` - Norm 430 TransferService;
  :mod:`.extranet` - Norm 440 ExtranetService (getLinks); :mod:`.portal` - the pages its deep links open;
* :mod:`.dispatch` - :class:`~.dispatch.Services`, which routes a request to its service.

No sockets here: replies are data the server (:mod:`bipro_ruv.sandbox.server`) writes out. Nothing of the
library's client is imported, so a misreading of the protocol cannot hide on both sides.
"""
