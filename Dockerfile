# syntax=docker/dockerfile:1
#
# One image for every app (identity, api, worker, cli); the command picks which one runs:
#   identity  node dist/apps/identity/apps/identity/src/main.js   (default)
#   api       node dist/apps/api/apps/api/src/main.js
#   worker    node dist/apps/worker/apps/worker/src/main.js
#   cli       node dist/apps/cli/apps/cli/src/main.js <command>
#   migrate   node node_modules/typeorm/cli.js -d dist/apps/cli/libs/database/src/data-source.js migration:run
#
# Debian (glibc) rather than Alpine: @node-rs/argon2 ships prebuilt glibc binaries as optional deps.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: all dependencies, compile the apps and the browser SDK ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# --ignore-scripts applies the package.json allowScripts policy on any npm version
# (the only dependencies with install scripts are the denied ones).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts ./scripts
# Also bundles the browser SDK into dist/sdk, which identity serves at /sdk/ (SDK_ASSETS_DIR).
RUN npm run build

# ---- runtime: production dependencies and compiled output only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# Files stay root-owned (read-only for the app); the process runs unprivileged.
USER node
EXPOSE 4000 4001 4002
CMD ["node", "dist/apps/identity/apps/identity/src/main.js"]
