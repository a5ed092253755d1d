"""What the sandbox's mailbox holds (BiPRO Norm 430 ``Lieferung``/``Datei``), built deterministically.

* :mod:`.shipments` - :class:`~.shipments.SeedShipment` and :class:`~.shipments.SeedDocument` (what
  :meth:`Sandbox.add_shipments <bipro_ruv.sandbox.Sandbox.add_shipments>` takes) and their builders;
* :mod:`.mailbox` - the default mailbox, bulk shipments and a large generated document;
* :mod:`.letters` - the PDF letters of the default mailbox; :mod:`.hostile` - one shipment per defect;
* :mod:`.contracts` - the seeded book of contracts; :mod:`.pdf`, :mod:`.gdv_writer` (GDV VU-Vermittler
  release 2023) and :mod:`.csv_writer` (R+V's CSV data packages) write the files.

Nothing here knows HTTP or SOAP; the sandbox's services read it.
"""
