# The session-runner image (Cloud Run). Build from the repository root, because the runner depends
# on the core workspace and npm needs the root lockfile:
#
#   docker build --platform linux/amd64 -t whatsdex-session-runner .
#
# See docs/deploy.md (building and deploying) and ADR 11 (why the image and its flags are so).

# The same Node.js release as the root package.json's `node` devDependency (a test checks).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# --- build: every dependency, then TypeScript → dist/ for core and the session-runner -----------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the install layer is reused until a dependency changes. functions/, devtools/
# and local-whatsapp/ are only their manifests: the lockfile names them as workspaces, but nothing of
# them is installed (the TUI, chat and their ink/react live in devtools, the local WhatsApp server
# in local-whatsapp, never in this image).
COPY package.json package-lock.json .npmrc ./
COPY core/package.json core/
COPY functions/package.json functions/
COPY devtools/package.json devtools/
COPY local-whatsapp/package.json local-whatsapp/
COPY session-runner/package.json session-runner/
# No install scripts: the only one the project approves installs the `node` binary, which the base
# image already is; sharp and TypeScript come as prebuilt platform packages.
RUN npm ci --workspace core --workspace session-runner --include-workspace-root --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY core/tsconfig.build.json core/
COPY core/src core/src
COPY session-runner/tsconfig.build.json session-runner/
COPY session-runner/src session-runner/src
# tsc directly (as `npm run build` would), core first: the runner compiles against core's .d.ts.
RUN node node_modules/typescript/bin/tsc -p core/tsconfig.build.json \
 && node node_modules/typescript/bin/tsc -p session-runner/tsconfig.build.json

# --- runtime: production dependencies of the session-runner (and core) only ---------------------
FROM ${NODE_IMAGE} AS runtime
# The .meme command draws its captions with a bold sans font through sharp's own fontconfig, which
# looks in /usr/share/fonts; the slim image has no fonts at all.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# google-auth-library looks for gcloud's credentials file under $CLOUDSDK_CONFIG, else under
# $HOME/.config/gcloud. Under --permission, fs.existsSync throws for a path it may not read, which
# would fail every Google client before it asks the metadata server. This folder is inside the
# readable app folder and never holds a file; Cloud Run sets HOME differently per execution
# environment, so HOME cannot be the one relied on.
ENV CLOUDSDK_CONFIG=/app/session-runner/.config/gcloud
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY core/package.json core/
COPY functions/package.json functions/
COPY devtools/package.json devtools/
COPY local-whatsapp/package.json local-whatsapp/
COPY session-runner/package.json session-runner/
# --workspace session-runner takes its dependencies and core's (linked), without devDependencies,
# functions or the root's tools; sharp's optional @img/sharp-linux-x64 and
# @img/sharp-libvips-linux-x64 (glibc) come with it on linux/amd64.
RUN npm ci --omit=dev --workspace session-runner --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/core/dist core/dist
COPY --from=build /app/session-runner/dist session-runner/dist
# The only folders the process may write to (see the start flags): Logs/, backups/, and tmp/ as
# its os.tmpdir() (Baileys encrypts each media message it sends into a temporary file). Owned by the
# unprivileged user; everything else stays root's and read-only to it, /tmp included.
RUN mkdir session-runner/Logs session-runner/backups session-runner/tmp \
 && chown node:node session-runner/Logs session-runner/backups session-runner/tmp
ENV TMPDIR=/app/session-runner/tmp
USER node
WORKDIR /app/session-runner
EXPOSE 8080
# node itself is PID 1: no shell, no npm, no docker-entrypoint.sh in between, so SIGTERM from Cloud
# Run reaches the runner's own handler. The argv is session-runner/package.json's "start" script,
# word for word (session-runner/test/permission.test.ts fails if they differ).
ENTRYPOINT []
CMD ["node", "--permission", "--allow-fs-read=.", "--allow-fs-read=../node_modules", "--allow-fs-read=../core", "--allow-fs-write=Logs", "--allow-fs-write=backups", "--allow-fs-write=tmp", "--allow-addons", "dist/main.js"]
