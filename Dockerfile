# syntax=docker/dockerfile:1
#
# The mcplane gateway image. Build:   docker build -t mcplane .
# Run (see docs/deployment.md):       docker run --env-file .env -p 127.0.0.1:8080:8080 mcplane
#
# Two stages: `deps` installs the production dependencies from the lockfile; `runtime` copies them
# next to the sources. Node runs the TypeScript sources as they are (erasable syntax only), so
# there is no compile step and no dev dependency in the image.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No production dependency has an install script; refusing them keeps the build reproducible.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
# tini is PID 1: it forwards SIGTERM to the gateway (which drains, then stops its children) and
# reaps any orphaned grandchild. bubblewrap runs sandboxed servers and gives children their own
# PID namespace, where the container runtime allows user namespaces (docs/deployment.md).
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini bubblewrap \
  && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 mcplane \
  && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/mcplane --no-create-home \
    --shell /usr/sbin/nologin mcplane \
  && install -d -o 10001 -g 10001 -m 0750 /var/lib/mcplane \
  && install -d -m 0755 /etc/mcplane

WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY schema ./schema
COPY deploy/docker/servers.config.yaml /etc/mcplane/servers.config.yaml
# Relative state paths (the default store, `sqlite:.mcplane/mcplane.db`, and the audit log beside
# it) resolve from the working directory; this link puts them on the volume.
RUN ln -s /var/lib/mcplane /app/.mcplane

ENV NODE_ENV=production \
  HOME=/var/lib/mcplane \
  MCPLANE_PORT=8080 \
  MCPLANE_STORE_URL=sqlite:/var/lib/mcplane/mcplane.db

# The store, the audit log and servers' own files (e.g. the memory server's) live here.
VOLUME ["/var/lib/mcplane"]
EXPOSE 8080

USER 10001:10001

# /health answers before the Host-header guard, so the probe needs no allowedHosts entry.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MCPLANE_PORT || 8080) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
# node itself, not `npm start`: npm does not forward SIGTERM, so the gateway would never drain.
CMD ["node", "bin/mcplane.js", "serve", "--host", "0.0.0.0", "--config", "/etc/mcplane/servers.config.yaml"]
