# syntax=docker/dockerfile:1
# The partner gateway: build the explorer (node) and the project (python) in stages of their
# own, run as a non-root user in a slim image.

# The GraphiQL explorer: its npm packages from the lock, built by Vite; only dist/ is kept.
FROM node:20-slim AS explorer
WORKDIR /explorer
COPY explorer/package.json explorer/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY explorer/index.html explorer/vite.config.js ./
COPY explorer/src ./src
RUN npm run build

FROM python:3.11.7-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# The locked runtime set first (its own layer, rebuilt only when the lock changes): every
# file checked against its hash, pip and setuptools included. `make lock` writes the lock.
COPY requirements/runtime.txt ./requirements/
RUN /opt/venv/bin/pip install --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY main.py settings.py errors.py ./
COPY schema ./schema
COPY resolvers ./resolvers
COPY auth ./auth
COPY metering ./metering
COPY backend ./backend
COPY storage ./storage
COPY observability ./observability
COPY server ./server
COPY cli ./cli
# The sample backend (and its fault-injection admin API) stays out of the production image.
# The project alone, built by the locked setuptools: nothing unlocked is fetched.
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation .

FROM python:3.11.7-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000 \
    GATEWAY_LOG_FORMAT=json \
    GATEWAY_EXPLORER_DIR=/opt/explorer
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --home-dir /app --shell /usr/sbin/nologin gateway
COPY --from=build /opt/venv /opt/venv
# The explorer's page and hashed assets, served by the gateway itself (no CDN).
COPY --from=explorer /explorer/dist /opt/explorer
WORKDIR /app
RUN chown gateway:gateway /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"GATEWAY_PORT\",\"8000\")}/healthz', timeout=2)"]
# Migrations first (idempotent), then the server; exec so SIGTERM reaches uvicorn.
CMD ["sh", "-c", "gateway db upgrade && exec gateway serve --host \"$GATEWAY_HOST\" --port \"$GATEWAY_PORT\""]
