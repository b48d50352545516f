# syntax=docker/dockerfile:1

# Debian slim, not Alpine: argon2 loads a prebuilt glibc binary through node-gyp-build,
# and the slim image has no compiler to build one from source. (argon2 stays at 0.44.0:
# 0.45's prebuilt binaries need Node-API 10, which Node 20 lacks; see package.json.)
# Node 22, the LTS line: Node 20 gets no more security releases (April 2026), though the
# service still runs on it outside the image (package.json engines).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The account pages: npm run build also runs vite build into web/dist. dist/.tsbuildinfo is
# the compiler's record for the next incremental build, of no use to the image.
COPY web ./web
RUN npm run build && npm prune --omit=dev && rm dist/.tsbuildinfo

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
# Memory and argon2 (measured with npm run bench, which starts the service with these values):
# - one malloc arena for all threads: with one per thread, every libuv thread that ever ran
#   a hash kept a block of ARGON2_MEMORY_KIB in its own arena (six threads held 117 MB);
# - blocks up to 32 MiB come from the arena and two of them stay there between hashes, so a
#   hash reuses memory already mapped: with glibc's defaults, threads sharing an arena gave
#   each block back and faulted it in again, which made a hash cost up to twice its CPU time
#   (an ARGON2_MEMORY_KIB above 32 MiB would again be mapped afresh for every hash);
# - V8's old space, capped well above the service's live heap (~50 MB), is collected rather
#   than grown to three times that under load. Raise it with NODE_OPTIONS if a setting such
#   as a very large ARGON2_CONCURRENCY needs more.
# - V8's young generation is set to 16 MiB semi-spaces: under `me` load, 4 MiB ones cost
#   15-30 % more CPU per request (most of it in the GC's helper threads), and 64 MiB ones six
#   times as much (a major GC every 50 ms). 16 MiB is Node 20's default, but Node 24's is
#   64 MiB, so the flag keeps the choice whatever Node the image is built on.
ENV MALLOC_ARENA_MAX=1
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=41943040
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=16"
WORKDIR /app
# The build stage's production dependencies: same base image, so the same binaries, and no
# npm run here (it would run under the service's NODE_OPTIONS, whose heap cap npm exceeds).
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
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
# The image has no curl; Node's fetch does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "dist/server.js"]
