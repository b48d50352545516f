# syntax=docker/dockerfile:1

# Debian slim, not Alpine: argon2 loads a prebuilt glibc binary through node-gyp-build,
# and the slim image has no compiler to build one from source.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The account pages: npm run build also runs vite build into web/dist.
COPY web ./web
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# Memory (measured with npm run bench, which starts the service with these same values):
# - every libuv thread that runs an argon2 hash would keep a malloc arena of its own holding
#   a block of ARGON2_MEMORY_KIB; two arenas serve the threads, and the blocks get reused;
# - V8's old space, capped well above the service's live heap (~50 MB), is collected rather
#   than grown to three times that under load. Raise it with NODE_OPTIONS if a setting such
#   as a very large ARGON2_CONCURRENCY needs more.
ENV MALLOC_ARENA_MAX=2
ENV NODE_OPTIONS=--max-old-space-size=128
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# src/http/account-ui.ts serves ../../web/dist from dist/http (when ACCOUNT_UI is on).
COPY --from=build /app/web/dist ./web/dist
# src/db/migrate.ts resolves the migrations as ../../drizzle from dist/db: drizzle/ sits beside dist/.
COPY drizzle ./drizzle
# The code stays root-owned and read-only to the service; only DATA_DIR (used without
# DATABASE_URL outside production) is writable.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 4000
# The image has no curl; Node 20's fetch does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "dist/server.js"]
