"""A reference client for integrators (``gga client``): names, signs and sends a submission over SFTP, FTPS or the
web service, waits for its ACRF wherever the gateway delivers it and checks the gateway's signature on it.

Written with the clients payroll packages use (paramiko, ftplib, httpx + PyJWT), so it also shows the gateway works
with them; a reader can lift any module as an example of one rule (naming, signing, the token, the ACRF).
"""
