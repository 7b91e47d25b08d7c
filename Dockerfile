FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kernel ./kernel
COPY keys ./keys
COPY store ./store
COPY admin_api ./admin_api
COPY gateway ./gateway
COPY gga ./gga
RUN pip install --no-cache-dir .
ENV GGA_DATA_DIR=/data \
    GGA_HTTP_BIND=0.0.0.0:8080 \
    GGA_SFTP_BIND=0.0.0.0:8022 \
    GGA_FTP_BIND=0.0.0.0:8021
VOLUME /data
EXPOSE 8080 8022 8021 30000-30099
CMD ["gga", "serve"]
