# feedamp-sync in a container: configured by FEEDAMP_SYNC_* environment variables only, state
# (the SQLite default) in the /var/lib/feedamp-sync volume. See README.md, "In a container".

# Build: the locked dependencies and the project, into a virtualenv at its final path.
FROM python:3.11-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/feedamp-sync
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --all-extras --no-install-project
COPY README.md ./
COPY feedamp_sync ./feedamp_sync
COPY migrations ./migrations
RUN uv sync --frozen --no-dev --all-extras --no-editable

# Run: the virtualenv, tini as PID 1, an unprivileged user.
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 feedamp-sync \
    && useradd --system --uid 10001 --gid feedamp-sync --no-create-home \
        --home-dir /var/lib/feedamp-sync --shell /usr/sbin/nologin feedamp-sync \
    && install -d -o feedamp-sync -g feedamp-sync -m 0700 /var/lib/feedamp-sync
COPY --from=build /opt/feedamp-sync /opt/feedamp-sync
COPY container/entrypoint.sh /usr/local/bin/feedamp-sync-entrypoint
ENV PATH=/opt/feedamp-sync/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FEEDAMP_SYNC_DATABASE__URL=sqlite:////var/lib/feedamp-sync/feedamp-sync.db \
    FEEDAMP_SYNC_HEALTH__ENABLED=true \
    FEEDAMP_SYNC_HEALTH__LISTEN=0.0.0.0:9464
VOLUME ["/var/lib/feedamp-sync"]
WORKDIR /var/lib/feedamp-sync
USER 10001:10001
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["feedamp-sync", "healthcheck"]
ENTRYPOINT ["tini", "--", "feedamp-sync-entrypoint"]
CMD ["run"]
