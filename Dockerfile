# The operator image for people with Docker: `docker build -t ghcr.io/xapi-dev/xapi:0.1.0 .`
# (manifests/operator runs it as UID 65532 with a read-only root filesystem; nothing here writes to
# disk at run time). It is neither built nor tested by this project's CI, which has no Docker
# engine: `npm run image` builds the tested image from Debian packages instead (docs/image.md).
# Same Entrypoint/Cmd/User contract as that image, different base (upstream Node 20 with a shell).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY imports ./imports
COPY bin ./bin
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/xapi.js"]
CMD ["operator"]
