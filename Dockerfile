# DigiCert SCIM Bridge: multi-stage build on Debian bookworm slim, Node.js 24 (LTS).
#   docker build -t digicert-scim-bridge \
#     --build-arg BUILD_COMMIT=$(git rev-parse HEAD) \
#     --build-arg BUILD_SOURCE=https://git.example.com/your/digicert-scim-bridge .
#   docker run -p 8080:8080 -e SCIM_BEARER_TOKENS=… -e DIGICERT_API_KEY=… -v scim-data:/data digicert-scim-bridge
#
# Build arguments (all optional) end up in the OCI labels (docker inspect) and, for the commit, in the running
# bridge: `digicert-scim --version`, the start log line, /admin and the build_info metric (src/version.ts).
#   BUILD_VERSION  org.opencontainers.image.version; keep the default equal to package.json's "version"
#                  (test/unit/deploy.test.ts checks it). The bridge itself reads package.json.
#   BUILD_COMMIT   org.opencontainers.image.revision and the BUILD_COMMIT the bridge reports; .git is not in
#                  the build context (.dockerignore), so give it here or it is "unknown".
#   BUILD_SOURCE   org.opencontainers.image.source: the URL of the repository the image was built from.
#   NODE_IMAGE     the Node.js base image of both stages: an LTS line better-sqlite3 ships binaries for
#                  (node:22-bookworm-slim works too; README.md, "Supported Node.js versions").
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: compile TypeScript and better-sqlite3, then drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
# better-sqlite3 falls back to compiling from source when no prebuilt binary fits; the toolchain stays in this stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# tsconfig.build.json compiles src/ (the simulator the demo ships included) into dist/; nothing from test/.
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ----
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=8080 \
    DATABASE_URL=sqlite:/data/scim.db
WORKDIR /app
# Application files stay owned by root (read-only for the service); only /data is writable by node.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8080
# No curl in slim images: use Node's built-in fetch against the liveness endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]

# Last, so a new commit rebuilds only these layers. licenses mirrors package.json's "license" (not open source).
ARG BUILD_VERSION=0.1.0
ARG BUILD_COMMIT=unknown
ARG BUILD_SOURCE=
LABEL org.opencontainers.image.title="DigiCert SCIM Bridge" \
      org.opencontainers.image.description="SCIM 2.0 server that provisions IdP users into DigiCert CertCentral and DigiCert ONE" \
      org.opencontainers.image.version="${BUILD_VERSION}" \
      org.opencontainers.image.revision="${BUILD_COMMIT}" \
      org.opencontainers.image.source="${BUILD_SOURCE}" \
      org.opencontainers.image.licenses="UNLICENSED"
ENV BUILD_COMMIT=${BUILD_COMMIT}
