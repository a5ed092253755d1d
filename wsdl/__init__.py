"""Our own minimal WSDL and XSD files for the BiPRO operations bipro-ruv uses.

Written from public wire facts (see README "WSDL and schemas"); BiPRO's copyrighted
schemas are not copied. Installed as the data package ``bipro_ruv.wsdl``.
"""
