"""Norm 430 TransferService: listShipments, getShipment, acknowledgeShipment (BiPRO 430.x).

The byte-level parts live in private modules: ``_download`` spools a getShipment reply as
it streams in (MTOM/XOP split by :mod:`bipro_ruv._wire.mime`, inline base64 by ``_inline``),
``_files`` names and writes delivered documents safely and durably, ``_archive`` unpacks
``Komprimierungstyp`` ZIP within limits.
"""
