# syntax=docker/dockerfile:1

# ---- build: every dependency, compile, then drop the dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm ci` runs the `prepare` script, which compiles src/ into dist/ with tsc,
# so the sources must be in place before it runs.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled code, production dependencies, SQL migrations ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY clickhouse ./clickhouse
COPY migrations ./migrations
# The dashboard's browser code, served as written at /dashboard.
COPY web ./web
# The paths auditflow writes, owned by the unprivileged user (a named volume
# mounted on an empty directory takes its owner from the image):
#   /app/data  DATA_DIR: the embedded ClickHouse store when CLICKHOUSE_URL is
#              unset, and mails when SMTP_URL is unset;
#   /app/keys  KEYS_DIR in docker-compose.yml: the signing and settings keys,
#              one volume shared by every role (docs/deploy.md).
RUN mkdir -p /app/data /app/keys && chown node:node /app/data /app/keys && chmod 700 /app/keys
USER node
# 3000: the api role (PORT). 9464: /metrics, /healthz and /readyz of worker and scheduler roles (METRICS_PORT).
EXPOSE 3000 9464
# node directly, not `npm start`: SIGTERM must reach auditflow so it stops in order
# (HTTP, workers, final ClickHouse flush, connections).
CMD ["node", "--max-semi-space-size=32", "--heap-growing-percent=60", "dist/main.js"]
