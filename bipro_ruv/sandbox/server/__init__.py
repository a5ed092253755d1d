"""The sandbox as a network server: HTTP routing, faults, streamed replies, TLS and the Sandbox object.

* :mod:`.app` - :class:`~.app.Sandbox`, the public object (start, stop, inject faults, seed the mailbox);
* :mod:`.http` - the threaded HTTP/1.1 server and its request handler;
* :mod:`.streaming` - getShipment bodies (inline or MTOM/XOP) written in segments of known size;
* :mod:`.faults` - the replies of broken and hostile servers; :mod:`.tls` - the throw-away certificates
  (the server's, and with client certificates the client CA and its PKCS#12 organisation certificates).
"""
