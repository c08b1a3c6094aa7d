# certify service image. MinIO and PostgreSQL run as their own services (see compose.yaml).
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core openssl libsofthsm2 libjpeg-turbo-progs \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /srv/certify certify
WORKDIR /srv/certify

COPY pyproject.toml README.md ./
COPY certify ./certify
COPY keys ./keys
COPY storage ./storage
COPY api ./api
# The PKI directory exists, owned by certify, before a volume is mounted on it: Docker then
# gives the new volume this owner (compose.yaml mounts certify-pki there).
RUN pip install --no-cache-dir . \
 && mkdir -p /srv/certify/var/pki \
 && chown -R certify /srv/certify/var

USER certify
ENV CERTIFY_DATA_DIR=/srv/certify/var \
    CERTIFY_HOST=0.0.0.0 \
    CERTIFY_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["sh", "-c", "certify db upgrade && exec certify serve --no-migrate"]
