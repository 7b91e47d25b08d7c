"""Web-service channel (/REST): OAuth2 client credentials with private_key_jwt, file PUT, return files."""
