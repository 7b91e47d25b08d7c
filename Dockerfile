FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kernel ./kernel
COPY keys ./keys
COPY store ./store
COPY admin_api ./admin_api
COPY gateway ./gateway
COPY gga ./gga
RUN pip install --no-cache-dir . \
    && groupadd --system --gid 10001 gga \
    && useradd --system --uid 10001 --gid gga --home-dir /data --no-create-home gga \
    && mkdir -p /data && chown gga:gga /data
ENV GGA_DATA_DIR=/data \
    GGA_HTTP_BIND=0.0.0.0:8080 \
    GGA_SFTP_BIND=0.0.0.0:8022 \
    GGA_FTP_BIND=0.0.0.0:8021
# a named volume mounted here takes this folder's owner on first use
VOLUME /data
USER gga
EXPOSE 8080 8022 8021 30000-30099
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=3)"]
STOPSIGNAL SIGTERM
CMD ["gga", "serve"]
