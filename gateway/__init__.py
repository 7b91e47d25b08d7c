"""The file gateway: protocol front ends (SFTP, FTP/FTPS, web service) and one intake pipeline."""
