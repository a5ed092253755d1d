"""Norm 430 TransferService: listShipments, getShipment, acknowledgeShipment (BiPRO 430.x).

The byte-level parts live in private modules: ``_mtom`` splits a multipart/related
(MTOM/XOP) reply as it streams in, ``_files`` names and writes delivered documents
safely and durably, ``_archive`` unpacks ``Komprimierungstyp`` ZIP within limits.
"""
